package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"
)

// seen is one request that passed verification.
type seen struct {
	method, requestURI, path, body string
	signedHeaders                  string
	principal                      Principal
}

// fakeGuardDuty is an httptest server that verifies SigV4 (real clock) and
// answers a few GuardDuty operations with minimal valid JSON.
type fakeGuardDuty struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFakeGuardDuty(t *testing.T) *fakeGuardDuty {
	t.Helper()
	v := &Verifier{Service: "guardduty", Keys: Keys{testKey.ID: testKey}}
	f := &fakeGuardDuty{}
	f.Server = httptest.NewServer(v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := FromContext(r.Context())
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		authz := r.Header.Get("Authorization")
		_, sh, _ := strings.Cut(authz, "SignedHeaders=")
		sh, _, _ = strings.Cut(sh, ",")
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.RequestURI, r.URL.Path, string(body), sh, p})
		f.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/detector":
			io.WriteString(w, `{"detectorIds":[]}`)
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/detector/"):
			io.WriteString(w, `{"serviceRole":"arn:aws:iam::111122223333:role/gd","status":"ENABLED"}`)
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/tags/"):
			io.WriteString(w, `{"tags":{"team":"sec"}}`)
		case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/tags/"):
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/findings"):
			io.WriteString(w, `{"findingIds":[]}`)
		default:
			WriteError(w, &Error{Status: 404, Code: "BadRequestException", Message: "no route " + r.URL.Path})
		}
	})))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGuardDuty) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request reached the handler")
	}
	return f.reqs[len(f.reqs)-1]
}

func gdClient(url string, id, secret, token string) *guardduty.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
	}
	return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = 1
	})
}

func TestGuardDutyClient(t *testing.T) {
	srv := newFakeGuardDuty(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := gdClient(srv.URL, testKey.ID, testKey.Secret, "")

	t.Run("ListDetectors", func(t *testing.T) {
		out, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if out.DetectorIds == nil || len(out.DetectorIds) != 0 {
			t.Errorf("DetectorIds = %v", out.DetectorIds)
		}
		if p := srv.last(t).principal; p.Account != testKey.Account || p.Region != "us-east-1" || p.Service != "guardduty" {
			t.Errorf("principal = %+v", p)
		}
	})
	t.Run("ListDetectors with query", func(t *testing.T) {
		_, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{MaxResults: aws.Int32(7), NextToken: aws.String("a b/c+d=")})
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.last(t).requestURI; !strings.Contains(got, "maxResults=7") {
			t.Errorf("RequestURI = %q", got)
		}
	})
	t.Run("ListTagsForResource ARN in path", func(t *testing.T) {
		out, err := c.ListTagsForResource(ctx, &guardduty.ListTagsForResourceInput{ResourceArn: aws.String(testARN)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Tags["team"] != "sec" {
			t.Errorf("tags = %v", out.Tags)
		}
		s := srv.last(t)
		if want := "/tags/arn%3Aaws%3Aguardduty%3Aus-east-1%3A111122223333%3Adetector%2F12abc34d567e8fa901bc2d34e56789f0"; s.requestURI != want {
			t.Errorf("RequestURI = %q, want %q", s.requestURI, want)
		}
		if s.path != "/tags/"+testARN {
			t.Errorf("decoded path = %q", s.path)
		}
	})
	t.Run("TagResource ARN in path and body", func(t *testing.T) {
		_, err := c.TagResource(ctx, &guardduty.TagResourceInput{ResourceArn: aws.String(testARN), Tags: map[string]string{"env": "prod"}})
		if err != nil {
			t.Fatal(err)
		}
		if s := srv.last(t); s.body != `{"tags":{"env":"prod"}}` {
			t.Errorf("handler saw body %q", s.body)
		}
	})
	t.Run("ListFindings body", func(t *testing.T) {
		_, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{
			DetectorId: aws.String("12abc34d567e8fa901bc2d34e56789f0"),
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{
				"severity": {GreaterThanOrEqual: aws.Int64(7)},
			}},
			MaxResults: aws.Int32(50),
		})
		if err != nil {
			t.Fatal(err)
		}
		s := srv.last(t)
		if !strings.Contains(s.body, `"greaterThanOrEqual":7`) {
			t.Errorf("handler saw body %q", s.body)
		}
		t.Logf("Go SDK SignedHeaders=%s", s.signedHeaders)
	})
	t.Run("GetDetector dot segment", func(t *testing.T) {
		// The Go SDK signs "/detector/.." as sent; botocore would sign "/".
		out, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String("..")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != types.DetectorStatusEnabled {
			t.Errorf("status = %q", out.Status)
		}
		if s := srv.last(t); s.requestURI != "/detector/.." {
			t.Errorf("RequestURI = %q", s.requestURI)
		}
	})
	t.Run("session token", func(t *testing.T) {
		_, err := gdClient(srv.URL, testKey.ID, testKey.Secret, "some-token").ListDetectors(ctx, nil)
		wantAPIError(t, err, CodeUnrecognizedClient, msgUnrecognized)
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := gdClient(srv.URL, testKey.ID, "wrong", "").ListDetectors(ctx, nil)
		wantAPIError(t, err, CodeInvalidSignature, "signature we calculated does not match")
	})
	t.Run("wrong secret with body", func(t *testing.T) {
		_, err := gdClient(srv.URL, testKey.ID, "wrong", "").ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String("abc")})
		wantAPIError(t, err, CodeInvalidSignature, "signature we calculated does not match")
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := gdClient(srv.URL, "AKIDUNKNOWN", testKey.Secret, "").ListDetectors(ctx, nil)
		wantAPIError(t, err, CodeUnrecognizedClient, msgUnrecognized)
	})
	t.Run("anonymous", func(t *testing.T) {
		cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
		c := guardduty.NewFromConfig(cfg, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		_, err := c.ListDetectors(ctx, nil)
		wantAPIError(t, err, CodeMissingAuthenticationToken, msgMissingToken)
	})
}

func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want smithy.APIError", err, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("APIError code %q message %q, want %q containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("HTTP status: %v", err)
	}
	if !strings.Contains(err.Error(), code) {
		t.Errorf("err.Error() = %q does not show the code", err.Error())
	}
}

const awsCLI = "/usr/bin/aws"

func TestAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skipf("AWS CLI not installed at %s: %v", awsCLI, err)
	}
	if testing.Short() {
		t.Skip("starting the AWS CLI is slow; skipped with -short")
	}
	srv := newFakeGuardDuty(t)
	home := t.TempDir()
	run := func(t *testing.T, id, secret string, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsCLI, append(args, "--endpoint-url", srv.URL, "--output", "json")...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + home,
			"AWS_ACCESS_KEY_ID=" + id,
			"AWS_SECRET_ACCESS_KEY=" + secret,
			"AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_PAGER=",
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	tests := []struct {
		name     string
		args     []string
		wantOut  string
		wantURI  string
		wantBody string
	}{
		{"list-detectors", []string{"guardduty", "list-detectors"}, `"DetectorIds": []`, "/detector", ""},
		{"list-tags-for-resource", []string{"guardduty", "list-tags-for-resource",
			"--resource-arn", "arn:aws:guardduty:us-east-1:111122223333:detector/abc"}, `"team": "sec"`,
			"/tags/arn%3Aaws%3Aguardduty%3Aus-east-1%3A111122223333%3Adetector%2Fabc", ""},
		{"list-findings", []string{"guardduty", "list-findings", "--detector-id", "abc",
			"--finding-criteria", `{"Criterion":{"severity":{"Gte":7}}}`}, `"FindingIds": []`,
			"/detector/abc/findings", `"gte": 7`},
		// botocore signs the path with dot segments removed ("/") but sends
		// "/detector/..": accepted through the normalized-path retry.
		{"get-detector dot segment", []string{"guardduty", "get-detector", "--detector-id", ".."},
			`"Status": "ENABLED"`, "/detector/..", ""},
		{"get-detector space", []string{"guardduty", "get-detector", "--detector-id", "a b"},
			`"Status": "ENABLED"`, "/detector/a%20b", ""},
		{"list-detectors max-items", []string{"guardduty", "list-detectors", "--max-results", "5", "--no-paginate"},
			`"DetectorIds": []`, "/detector?maxResults=5", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, testKey.ID, testKey.Secret, tc.args...)
			if err != nil {
				t.Fatalf("aws %s: %v\n%s", strings.Join(tc.args, " "), err, out)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("output %q does not contain %q", out, tc.wantOut)
			}
			s := srv.last(t)
			if s.requestURI != tc.wantURI {
				t.Errorf("RequestURI = %q, want %q", s.requestURI, tc.wantURI)
			}
			if !strings.Contains(s.body, tc.wantBody) {
				t.Errorf("body %q does not contain %q", s.body, tc.wantBody)
			}
			t.Logf("CLI SignedHeaders=%s", s.signedHeaders)
		})
	}

	fails := []struct {
		name, id, secret string
		args             []string
		want             string
	}{
		{"wrong secret", testKey.ID, "wrong", []string{"guardduty", "list-detectors"},
			"An error occurred (InvalidSignatureException) when calling the ListDetectors operation: The request signature we calculated does not match"},
		{"wrong secret with body", testKey.ID, "wrong", []string{"guardduty", "list-findings", "--detector-id", "abc"},
			"An error occurred (InvalidSignatureException) when calling the ListFindings operation"},
		{"unknown key", "AKIDUNKNOWN", testKey.Secret, []string{"guardduty", "list-detectors"},
			"An error occurred (UnrecognizedClientException) when calling the ListDetectors operation: The security token included in the request is invalid."},
		{"unsigned", testKey.ID, testKey.Secret, []string{"guardduty", "list-detectors", "--no-sign-request"},
			"An error occurred (MissingAuthenticationTokenException) when calling the ListDetectors operation: Missing Authentication Token"},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.id, tc.secret, tc.args...)
			if err == nil {
				t.Fatalf("aws succeeded, want failure:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output:\n%s\nwant it to contain:\n%s", out, tc.want)
			}
		})
	}
}
