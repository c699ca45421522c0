package guardduty

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tags: TagResource, UntagResource and ListTagsForResource on the GuardDuty
// resources Vigil keeps — detectors, filters, IP sets, threat intel sets and
// publishing destinations — of the caller's account and region.

const maxTags = 200

func (s *Service) routeTags(route func(pattern, name string, status int, h handlerFunc)) {
	// {ResourceArn...}: the SDKs escape the ARN's '/' as %2F, so it arrives
	// as one segment; clients that do not escape it still reach the same
	// operation. PathValue returns the unescaped ARN either way.
	route("POST /tags/{ResourceArn...}", "TagResource", http.StatusNoContent, s.tagResource)
	route("DELETE /tags/{ResourceArn...}", "UntagResource", http.StatusNoContent, s.untagResource)
	route("GET /tags/{ResourceArn...}", "ListTagsForResource", 200, s.listTagsForResource)
}

// tagsOf returns a copy of a resource's tags, never nil. Callers hold st.mu.
func (st *State) tagsOf(arn string) map[string]string {
	out := make(map[string]string, len(st.Tags[arn]))
	maps.Copy(out, st.Tags[arn])
	return out
}

// tagChar reports whether r may appear in a tag key or value: letters,
// digits, white space and _ . : / = + - @, as AWS tags allow.
func tagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSpace(r) || strings.ContainsRune("_.:/=+-@", r)
}

func validTagKey(k string) error {
	n := utf8.RuneCountInString(k)
	switch {
	case n < 1 || n > 128:
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: tag key %q must be 1 to 128 characters.", k)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: tag key %q uses the reserved prefix aws:.", k)
	case strings.IndexFunc(k, func(r rune) bool { return !tagChar(r) }) >= 0:
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: tag key %q may contain only letters, digits, spaces and _ . : / = + - @.", k)
	}
	return nil
}

// validTags checks the tags of a request; nil or empty is valid.
func validTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: a resource can have at most %d tags.", maxTags)
	}
	for k, v := range tags {
		if err := validTagKey(k); err != nil {
			return err
		}
		if utf8.RuneCountInString(v) > 256 {
			return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: the value of tag %q is longer than 256 characters.", k)
		}
		if strings.IndexFunc(v, func(r rune) bool { return !tagChar(r) }) >= 0 {
			return badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: the value of tag %q may contain only letters, digits, spaces and _ . : / = + - @.", k)
		}
	}
	return nil
}

// taggedResource resolves the {ResourceArn} of a tag operation to the
// canonical ARN under which the resource's tags are kept. The resource must
// be the caller's, in the caller's region, and exist. Callers hold st.mu.
func (s *Service) taggedResource(c caller, r *http.Request) (string, error) {
	arn := r.PathValue("ResourceArn")
	notFound := badRequest("The request is rejected because the resource %s does not exist or is not owned by the current account.", arn)
	// arn:<partition>:guardduty:<region>:<account>:detector/<id>[/<kind>/<id>]
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "guardduty" || !strings.HasPrefix(parts[5], "detector/") {
		return "", badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %q is not a GuardDuty resource ARN.", arn)
	}
	if parts[3] != c.Region || parts[4] != c.Account {
		return "", notFound
	}
	path := strings.Split(parts[5], "/")
	st := s.state
	d := st.detectorOf(c.Account, c.Region)
	if d == nil || path[1] != d.ID {
		return "", notFound
	}
	switch {
	case len(path) == 2:
		return d.arn(), nil
	case len(path) != 4:
		return "", notFound
	}
	kind, id := path[2], path[3]
	switch kind {
	case "filter":
		if f := st.Filters[d.ID][id]; f != nil {
			return f.arn(d.ID), nil
		}
	case "ipset", "threatintelset":
		if l := st.Sets[id]; l != nil && l.DetectorID == d.ID && l.Kind == kind {
			return l.arn(), nil
		}
	case "publishingDestination":
		if x := st.Destinations[id]; x != nil && x.DetectorID == d.ID {
			return x.arn(), nil
		}
	}
	return "", notFound
}

func (s *Service) tagResource(ctx context.Context, c caller, r *http.Request) (any, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, badRequest("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	st := s.state
	st.mu.Lock()
	arn, err := s.taggedResource(c, r)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	tags := st.tagsOf(arn)
	maps.Copy(tags, in.Tags)
	if len(tags) > maxTags {
		st.mu.Unlock()
		return nil, badRequest("The request is rejected because the resource would have %d tags; the limit is %d.", len(tags), maxTags)
	}
	st.Tags[arn] = tags
	st.mu.Unlock()
	return nil, s.save(ctx)
}

func (s *Service) untagResource(ctx context.Context, c caller, r *http.Request) (any, error) {
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return nil, badRequest("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	if len(keys) > maxTags {
		return nil, badRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: tagKeys can name at most %d keys.", maxTags)
	}
	for _, k := range keys {
		if err := validTagKey(k); err != nil {
			return nil, err
		}
	}
	st := s.state
	st.mu.Lock()
	arn, err := s.taggedResource(c, r)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	tags := st.tagsOf(arn)
	for _, k := range keys {
		delete(tags, k)
	}
	if len(tags) == 0 {
		delete(st.Tags, arn)
	} else {
		st.Tags[arn] = tags
	}
	st.mu.Unlock()
	return nil, s.save(ctx)
}

func (s *Service) listTagsForResource(ctx context.Context, c caller, r *http.Request) (any, error) {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	arn, err := s.taggedResource(c, r)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": st.tagsOf(arn)}, nil
}
