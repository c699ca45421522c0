package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	gd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

func cmdFilters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: vigil filters list|get|create|delete [flags]", errUsage)
	}
	sub, args := args[0], args[1:]
	fl := flag.NewFlagSet("filters "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	cf := addClientFlags(fl)
	name := fl.String("name", "", "create: the filter's name")
	action := fl.String("action", "NOOP", "create: NOOP (a saved filter) or ARCHIVE (a suppression rule)")
	rank := fl.Int("rank", 0, "create: position among the filters (1-100)")
	desc := fl.String("description", "", "create: description")
	crit := fl.String("criteria", "", `create: GuardDuty findingCriteria as JSON, e.g. '{"criterion":{"type":{"equals":["Recon:EC2/PortProbeUnprotectedPort"]}}}'`)
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	switch sub {
	case "list":
	case "get", "delete":
		if fl.NArg() != 1 {
			return fmt.Errorf("%w: filters %s NAME", errUsage, sub)
		}
	case "create":
		if *name == "" || *crit == "" {
			return fmt.Errorf("%w: filters create needs --name and --criteria", errUsage)
		}
	default:
		return fmt.Errorf("%w: unknown filters command %q (list, get, create, delete)", errUsage, sub)
	}
	ac, err := cf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer ac.close()
	det := &ac.detector
	switch sub {
	case "list":
		var names []string
		p := gd.NewListFiltersPaginator(ac.c, &gd.ListFiltersInput{DetectorId: det})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			names = append(names, out.FilterNames...)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tACTION\tRANK\tDESCRIPTION")
		for _, n := range names {
			f, err := ac.c.GetFilter(ctx, &gd.GetFilterInput{DetectorId: det, FilterName: aws.String(n)})
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", n, f.Action, aws.ToInt32(f.Rank), aws.ToString(f.Description))
		}
		return tw.Flush()
	case "get":
		if _, err := ac.c.GetFilter(ctx, &gd.GetFilterInput{DetectorId: det, FilterName: aws.String(fl.Arg(0))}); err != nil {
			return err
		}
		var v any
		json.Unmarshal(ac.raw.last, &v)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "delete":
		if _, err := ac.c.DeleteFilter(ctx, &gd.DeleteFilterInput{DetectorId: det, FilterName: aws.String(fl.Arg(0))}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted filter %s\n", fl.Arg(0))
		return nil
	}
	var fc types.FindingCriteria
	if err := json.Unmarshal([]byte(*crit), &fc); err != nil {
		return fmt.Errorf("%w: --criteria: %v", errUsage, err)
	}
	in := &gd.CreateFilterInput{DetectorId: det, Name: name, Action: types.FilterAction(*action), FindingCriteria: &fc}
	if *rank > 0 {
		in.Rank = aws.Int32(int32(*rank))
	}
	if *desc != "" {
		in.Description = desc
	}
	if _, err := ac.c.CreateFilter(ctx, in); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created filter %s (%s)\n", *name, *action)
	return nil
}
