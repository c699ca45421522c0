package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/vigilsec/vigil/api/guardduty"
	"github.com/vigilsec/vigil/api/sigv4"
	"github.com/vigilsec/vigil/config"
	"github.com/vigilsec/vigil/store"
)

// apiClient is a GuardDuty client for the people-facing commands: against
// a running `vigil serve`, or, when none answers, against the API served
// in-process over the store. Either way the same operations, checks and
// tenancy apply.
type apiClient struct {
	c        *gd.Client
	detector string
	close    func()
	raw      *captureTransport
}

// captureTransport keeps the body of the last response, so that findings
// can be printed exactly as the API wrote them (the SDK's types have no
// JSON names of their own).
type captureTransport struct {
	base http.RoundTripper
	last []byte
}

func (t *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	t.last = b
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp, nil
}

type clientFlags struct {
	config   *string
	endpoint *string
	account  *string
	region   *string
	json     *bool
}

func addClientFlags(fl *flag.FlagSet) clientFlags {
	return clientFlags{
		config:   fl.String("config", "", "config file (accounts, store, listen)"),
		endpoint: fl.String("endpoint", "", "URL of a running vigil serve (default: http://<listen> from the config)"),
		account:  fl.String("account", "", "account to act as (default: the first account in the config, or AWS_ACCESS_KEY_ID's)"),
		region:   fl.String("region", "", "region (default: AWS_REGION, AWS_DEFAULT_REGION, or us-east-1)"),
		json:     fl.Bool("json", false, "print JSON instead of a table"),
	}
}

func (cf clientFlags) open(ctx context.Context, stderr io.Writer) (*apiClient, error) {
	if *cf.config == "" {
		return nil, fmt.Errorf("%w: --config FILE is required", errUsage)
	}
	cfg, err := loadConfig(*cf.config)
	if err != nil {
		return nil, err
	}
	region := *cf.region
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = os.Getenv(v)
		}
	}
	if region == "" {
		region = "us-east-1"
	}
	key, secret, err := pickKey(cfg, *cf.account)
	if err != nil {
		return nil, err
	}
	opts := gd.Options{Region: region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1}
	endpoint := *cf.endpoint
	if endpoint == "" {
		endpoint = "http://" + cfg.Listen
	}
	closer := func() {}
	if serverUp(ctx, endpoint) {
		opts.BaseEndpoint = aws.String(endpoint)
	} else {
		if *cf.endpoint != "" {
			return nil, fmt.Errorf("no vigil serve answers at %s", endpoint)
		}
		h, close, err := localAPI(ctx, cfg)
		if err != nil {
			return nil, err
		}
		srv := httptest.NewServer(h)
		opts.BaseEndpoint = aws.String(srv.URL)
		closer = func() { srv.Close(); close() }
		fmt.Fprintf(stderr, "no server at %s: using the store %s directly\n", endpoint, cfg.Store.Path)
	}
	raw := &captureTransport{base: http.DefaultTransport}
	opts.HTTPClient = &http.Client{Transport: raw}
	c := gd.New(opts)
	dets, err := c.ListDetectors(ctx, &gd.ListDetectorsInput{})
	if err != nil {
		closer()
		return nil, err
	}
	if len(dets.DetectorIds) == 0 {
		closer()
		return nil, fmt.Errorf("the account has no detector in %s", region)
	}
	return &apiClient{c: c, detector: dets.DetectorIds[0], close: closer, raw: raw}, nil
}

// pickKey chooses the credentials: the environment's, else those of the
// named (or first) account in the config.
func pickKey(cfg *config.Config, account string) (string, string, error) {
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" && account == "" {
		return id, secret, nil
	}
	for _, a := range cfg.Accounts {
		if (account == "" || a.ID == account) && len(a.AccessKeys) > 0 {
			s, err := a.AccessKeys[0].ResolveSecret()
			return a.AccessKeys[0].ID, s, err
		}
	}
	if account != "" {
		return "", "", fmt.Errorf("account %s has no access key in the config", account)
	}
	return "", "", errors.New("the config lists no accounts with access keys (accounts: in the config)")
}

func serverUp(ctx context.Context, endpoint string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(endpoint, "/")+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// localAPI serves the GuardDuty API in-process over the config's store.
func localAPI(ctx context.Context, cfg *config.Config) (http.Handler, func(), error) {
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, nil, err
	}
	keys := sigv4.Keys{}
	var accts []guardduty.Account
	for _, a := range cfg.Accounts {
		accts = append(accts, guardduty.Account{ID: a.ID, Administrator: a.Administrator})
		for _, k := range a.AccessKeys {
			s, err := k.ResolveSecret()
			if err != nil {
				st.Close()
				return nil, nil, err
			}
			keys[k.ID] = sigv4.Key{ID: k.ID, Secret: s, Account: a.ID}
		}
	}
	svc, err := guardduty.New(ctx, guardduty.Options{Store: st, Keys: keys, Accounts: accts, MembersCanArchive: cfg.GuardDuty.MembersCanArchive})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc.Handler(), func() { st.Close() }, nil
}

func cmdFindings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: vigil findings list|get|archive|unarchive|export [flags]", errUsage)
	}
	sub, args := args[0], args[1:]
	fl := flag.NewFlagSet("findings "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	cf := addClientFlags(fl)
	sevMin := fl.Float64("severity-min", 0, "list: only findings with at least this severity")
	typ := fl.String("type", "", "list: only findings of this type")
	archived := fl.Bool("archived", false, "list: archived findings instead of current ones")
	limit := fl.Int("limit", 100, "list: at most this many findings")
	criteriaJSON := fl.String("criteria", "", `list, export: GuardDuty findingCriteria as JSON, e.g. '{"criterion":{"severity":{"gte":7}}}'`)
	output := fl.String("output", "", "export: write to this file instead of stdout")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	switch sub {
	case "list", "get", "archive", "unarchive", "export":
	default:
		return fmt.Errorf("%w: unknown findings command %q (list, get, archive, unarchive, export)", errUsage, sub)
	}
	if (sub == "get" || sub == "archive" || sub == "unarchive") && fl.NArg() == 0 {
		return fmt.Errorf("%w: findings %s needs finding ids", errUsage, sub)
	}
	ac, err := cf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer ac.close()
	det := &ac.detector
	switch sub {
	case "archive":
		_, err := ac.c.ArchiveFindings(ctx, &gd.ArchiveFindingsInput{DetectorId: det, FindingIds: fl.Args()})
		if err == nil {
			fmt.Fprintf(stdout, "archived %d finding(s)\n", fl.NArg())
		}
		return err
	case "unarchive":
		_, err := ac.c.UnarchiveFindings(ctx, &gd.UnarchiveFindingsInput{DetectorId: det, FindingIds: fl.Args()})
		if err == nil {
			fmt.Fprintf(stdout, "unarchived %d finding(s)\n", fl.NArg())
		}
		return err
	}
	var ids []string
	if sub == "get" {
		ids = fl.Args()
	} else {
		crit := &types.FindingCriteria{Criterion: map[string]types.Condition{}}
		if *criteriaJSON != "" {
			if err := json.Unmarshal([]byte(*criteriaJSON), crit); err != nil {
				return fmt.Errorf("%w: --criteria: %v", errUsage, err)
			}
			if crit.Criterion == nil {
				crit.Criterion = map[string]types.Condition{}
			}
		}
		if *sevMin > 0 {
			crit.Criterion["severity"] = types.Condition{GreaterThanOrEqual: aws.Int64(int64(*sevMin))}
		}
		if *typ != "" {
			crit.Criterion["type"] = types.Condition{Equals: []string{*typ}}
		}
		if sub == "list" {
			crit.Criterion["service.archived"] = types.Condition{Equals: []string{fmt.Sprint(*archived)}}
		}
		in := &gd.ListFindingsInput{DetectorId: det, FindingCriteria: crit, SortCriteria: &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByDesc}}
		p := gd.NewListFindingsPaginator(ac.c, in)
		for p.HasMorePages() && (sub == "export" || len(ids) < *limit) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			ids = append(ids, out.FindingIds...)
		}
		if sub == "list" && len(ids) > *limit {
			ids = ids[:*limit]
		}
	}
	var fs []json.RawMessage
	var shown []types.Finding
	for start := 0; start < len(ids); start += 50 {
		end := min(start+50, len(ids))
		out, err := ac.c.GetFindings(ctx, &gd.GetFindingsInput{DetectorId: det, FindingIds: ids[start:end]})
		if err != nil {
			return err
		}
		shown = append(shown, out.Findings...)
		var body struct {
			Findings []json.RawMessage `json:"findings"`
		}
		if err := json.Unmarshal(ac.raw.last, &body); err != nil {
			return fmt.Errorf("reading GetFindings response: %w", err)
		}
		fs = append(fs, body.Findings...)
	}
	w := stdout
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch {
	case sub == "export":
		for _, b := range fs {
			fmt.Fprintf(w, "%s\n", b)
		}
		fmt.Fprintf(stderr, "exported %d finding(s)\n", len(fs))
		return nil
	case *cf.json:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if fs == nil {
			fs = []json.RawMessage{}
		}
		return enc.Encode(fs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTYPE\tRESOURCE\tCOUNT\tLAST SEEN")
	for _, f := range shown {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t%s\n", aws.ToString(f.Id), aws.ToFloat64(f.Severity), aws.ToString(f.Type), sdkResource(f), aws.ToInt32(f.Service.Count), aws.ToString(f.Service.EventLastSeen))
	}
	return tw.Flush()
}

func sdkResource(f types.Finding) string {
	r := f.Resource
	switch {
	case r == nil:
		return "-"
	case r.InstanceDetails != nil && r.InstanceDetails.InstanceId != nil:
		return *r.InstanceDetails.InstanceId
	case r.AccessKeyDetails != nil:
		return aws.ToString(r.AccessKeyDetails.AccessKeyId) + " " + aws.ToString(r.AccessKeyDetails.UserName)
	case len(r.S3BucketDetails) > 0:
		return aws.ToString(r.S3BucketDetails[0].Name)
	}
	return aws.ToString(r.ResourceType)
}
