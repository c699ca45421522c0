package cloudtrail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigilsec/vigil/event"
)

// refDecode is the straightforward encoding/json decoder the differential
// test compares against. It decodes one record.
func refDecode(rec []byte) (event.APICall, error) {
	var r struct {
		EventVersion                 *string
		EventTime                    *string
		EventSource                  *string
		EventName                    *string
		AWSRegion                    *string
		SourceIPAddress              *string
		UserAgent                    *string
		ErrorCode                    *string
		ErrorMessage                 *string
		RequestID                    *string
		EventID                      *string
		EventType                    *string
		EventCategory                *string
		APIVersion                   *string
		ReadOnly                     json.RawMessage
		ManagementEvent              json.RawMessage
		RecipientAccountID           *string `json:"recipientAccountId"`
		SharedEventID                *string
		VPCEndpointID                *string `json:"vpcEndpointId"`
		VPCEndpointAccountID         *string `json:"vpcEndpointAccountId"`
		SessionCredentialFromConsole json.RawMessage
		UserIdentity                 *struct {
			Type, PrincipalID, ARN, AccountID, AccessKeyID, UserName, InvokedBy, CredentialID *string
			OnBehalfOf                                                                        *struct{ UserID *string }
			SessionContext                                                                    *struct {
				Attributes *struct {
					MFAAuthenticated json.RawMessage
					CreationDate     *string
				}
				SourceIdentity  *string
				EC2RoleDelivery *string
				SessionIssuer   *struct{ Type, PrincipalID, ARN, AccountID, UserName *string }
			}
		}
		Resources           []json.RawMessage
		RequestParameters   json.RawMessage
		ResponseElements    json.RawMessage
		AdditionalEventData json.RawMessage
		ServiceEventDetails json.RawMessage
	}
	var api event.APICall
	if err := json.Unmarshal(rec, &r); err != nil {
		return api, err
	}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	ob := func(m json.RawMessage) (event.OptBool, error) {
		switch strings.ToLower(string(m)) {
		case "", "null":
			return event.Unset, nil
		case "true", `"true"`:
			return event.True, nil
		case "false", `"false"`:
			return event.False, nil
		}
		return 0, fmt.Errorf("bad bool %s", m)
	}
	rawv := func(m json.RawMessage) []byte {
		if m == nil || string(m) == "null" {
			return nil
		}
		return bytes.Clone(m)
	}
	ts := func(p *string) (time.Time, error) {
		if p == nil || *p == "" {
			return time.Time{}, nil
		}
		var t time.Time
		var err error
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if t, err = time.Parse(layout, *p); err == nil {
				break
			}
		}
		return t.UTC(), err
	}
	// sb reads a string that some exporters write as a boolean.
	sb := func(m json.RawMessage) (string, error) {
		var v any
		if m == nil {
			return "", nil
		}
		if err := json.Unmarshal(m, &v); err != nil {
			return "", err
		}
		switch v := v.(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		case bool:
			return fmt.Sprint(v), nil
		}
		return "", fmt.Errorf("bad string %s", m)
	}
	var err error
	api.EventVersion = s(r.EventVersion)
	if r.EventTime == nil || r.EventName == nil || *r.EventName == "" {
		return api, fmt.Errorf("missing eventTime/eventName")
	}
	if api.EventTime, err = ts(r.EventTime); err != nil {
		return api, err
	}
	api.EventSource = s(r.EventSource)
	api.EventName = s(r.EventName)
	api.AWSRegion = s(r.AWSRegion)
	api.SourceIPAddress = s(r.SourceIPAddress)
	if a, err := netip.ParseAddr(api.SourceIPAddress); err == nil {
		api.SourceIP = a.Unmap()
	}
	api.UserAgent = s(r.UserAgent)
	api.ErrorCode = s(r.ErrorCode)
	api.ErrorMessage = s(r.ErrorMessage)
	api.RequestID = s(r.RequestID)
	api.EventID = s(r.EventID)
	api.EventType = s(r.EventType)
	api.EventCategory = s(r.EventCategory)
	api.APIVersion = s(r.APIVersion)
	if api.ReadOnly, err = ob(r.ReadOnly); err != nil {
		return api, err
	}
	if api.ManagementEvent, err = ob(r.ManagementEvent); err != nil {
		return api, err
	}
	api.RecipientAccountID = s(r.RecipientAccountID)
	api.SharedEventID = s(r.SharedEventID)
	api.VPCEndpointID = s(r.VPCEndpointID)
	api.VPCEndpointAccount = s(r.VPCEndpointAccountID)
	if api.SessionCredentialFromConsole, err = sb(r.SessionCredentialFromConsole); err != nil {
		return api, err
	}
	if u := r.UserIdentity; u != nil {
		id := &api.UserIdentity
		id.Type, id.PrincipalID, id.ARN, id.AccountID = s(u.Type), s(u.PrincipalID), s(u.ARN), s(u.AccountID)
		id.AccessKeyID, id.UserName, id.InvokedBy, id.CredentialID = s(u.AccessKeyID), s(u.UserName), s(u.InvokedBy), s(u.CredentialID)
		if u.OnBehalfOf != nil {
			id.OnBehalfOfUserID = s(u.OnBehalfOf.UserID)
		}
		if sc := u.SessionContext; sc != nil {
			id.SourceIdentity, id.EC2RoleDelivery = s(sc.SourceIdentity), s(sc.EC2RoleDelivery)
			if a := sc.Attributes; a != nil {
				if id.MFAAuthenticated, err = sb(a.MFAAuthenticated); err != nil {
					return api, err
				}
				if id.SessionCreated, err = ts(a.CreationDate); err != nil {
					return api, err
				}
			}
			if is := sc.SessionIssuer; is != nil {
				id.IssuerType, id.IssuerPrincipalID, id.IssuerARN = s(is.Type), s(is.PrincipalID), s(is.ARN)
				id.IssuerAccountID, id.IssuerUserName = s(is.AccountID), s(is.UserName)
			}
		}
	}
	for _, m := range r.Resources {
		var res struct{ ARN, AccountID, Type *string }
		var arn string
		if json.Unmarshal(m, &arn) == nil {
			res.ARN = &arn
		} else if err := json.Unmarshal(m, &res); err != nil {
			return api, err
		}
		api.Resources = append(api.Resources, event.Resource{ARN: s(res.ARN), AccountID: s(res.AccountID), Type: s(res.Type)})
	}
	api.RequestParameters = rawv(r.RequestParameters)
	api.ResponseElements = rawv(r.ResponseElements)
	api.AdditionalEventData = rawv(r.AdditionalEventData)
	api.ServiceEventDetails = rawv(r.ServiceEventDetails)
	return api, nil
}
