package finding

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// modelPaths are where Debian's awscli package and pip's botocore keep the
// GuardDuty API model.
var modelPaths = []string{
	"/usr/lib/python3/dist-packages/awscli/botocore/data/guardduty/2017-11-28/service-2.json",
	"/usr/lib/python3/dist-packages/botocore/data/guardduty/2017-11-28/service-2.json",
}

// newerThanModel are members of the current GuardDuty model
// (../shared/spec/guardduty.md §3, botocore 2026-07) that older copies of
// the model, such as Debian's awscli 2.9.19, do not have yet.
var newerThanModel = map[string]bool{
	"LocalIpDetails.ipAddressV6":                    true,
	"RemoteIpDetails.ipAddressV6":                   true,
	"NetworkConnectionAction.localNetworkInterface": true,
	"DnsRequestAction.domainWithSuffix":             true,
	"DnsRequestAction.vpcOwnerAccountId":            true,
	"ThreatIntelligenceDetail.threatFileSha256":     true,
}

type model struct {
	Shapes map[string]shape `json:"shapes"`
}

type shape struct {
	Type    string            `json:"type"`
	Members map[string]member `json:"members"`
	Member  *member           `json:"member"` // lists
}

type member struct {
	Shape        string `json:"shape"`
	LocationName string `json:"locationName"`
}

// TestShapeMatchesModel walks the Finding type and checks every JSON field
// name and its kind against AWS's own GuardDuty model: the same names,
// nesting and types GetFindings returns.
func TestShapeMatchesModel(t *testing.T) {
	var m model
	for _, p := range modelPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		break
	}
	if m.Shapes == nil {
		t.Skip("GuardDuty API model not found (apt-get install awscli): skipping")
	}
	checked := 0
	var walk func(path string, typ reflect.Type, shapeName string)
	walk = func(path string, typ reflect.Type, shapeName string) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		sh, ok := m.Shapes[shapeName]
		if !ok {
			t.Errorf("%s: model has no shape %s", path, shapeName)
			return
		}
		switch sh.Type {
		case "structure":
			if typ.Kind() != reflect.Struct {
				t.Errorf("%s: Go %s, model structure %s", path, typ, shapeName)
				return
			}
			wire := map[string]string{}
			for name, mem := range sh.Members {
				w := mem.LocationName
				if w == "" {
					w = name
				}
				wire[w] = mem.Shape
			}
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if tag == "" || tag == "-" {
					continue
				}
				sub, ok := wire[tag]
				if !ok && newerThanModel[shapeName+"."+tag] {
					continue
				}
				if !ok {
					t.Errorf("%s.%s: no member %q in model shape %s", path, f.Name, tag, shapeName)
					continue
				}
				checked++
				walk(path+"."+tag, f.Type, sub)
			}
		case "list":
			if typ.Kind() != reflect.Slice {
				t.Errorf("%s: Go %s, model list", path, typ)
				return
			}
			walk(path+"[]", typ.Elem(), sh.Member.Shape)
		case "map":
			if typ.Kind() != reflect.Map {
				t.Errorf("%s: Go %s, model map", path, typ)
			}
		case "string":
			if typ.Kind() != reflect.String {
				t.Errorf("%s: Go %s, model string", path, typ)
			}
		case "double", "float":
			if typ.Kind() != reflect.Float64 {
				t.Errorf("%s: Go %s, model %s", path, typ, sh.Type)
			}
		case "integer", "long":
			if k := typ.Kind(); k != reflect.Int && k != reflect.Int64 && k != reflect.Int32 {
				t.Errorf("%s: Go %s, model %s", path, typ, sh.Type)
			}
		case "boolean":
			if typ.Kind() != reflect.Bool {
				t.Errorf("%s: Go %s, model boolean", path, typ)
			}
		case "timestamp":
			if k := typ.Kind(); k != reflect.Int64 && k != reflect.String {
				t.Errorf("%s: Go %s, model timestamp", path, typ)
			}
		default:
			t.Errorf("%s: model type %s not handled", path, sh.Type)
		}
	}
	walk("Finding", reflect.TypeOf(Finding{}), "Finding")
	// The model's required members of a Finding are all there.
	if checked < 100 {
		t.Errorf("checked only %d fields", checked)
	}
	t.Logf("%d fields match the model", checked)
}
