package cloudtrail

// keyID names a JSON key the decoder acts on. The IDs are shared by all the
// object levels; each level ignores the IDs that do not belong to it.
type keyID uint8

const (
	kUnknown keyID = iota
	kEventVersion
	kEventTime
	kEventSource
	kEventName
	kAWSRegion
	kSourceIPAddress
	kUserAgent
	kErrorCode
	kErrorMessage
	kRequestID
	kEventID
	kEventType
	kEventCategory
	kAPIVersion
	kReadOnly
	kManagementEvent
	kRecipientAccountID
	kSharedEventID
	kVPCEndpointID
	kVPCEndpointAccountID
	kSessionCredentialFromConsole
	kUserIdentity
	kResources
	kRequestParameters
	kResponseElements
	kAdditionalEventData
	kServiceEventDetails
	kType
	kPrincipalID
	kARN
	kAccountID
	kAccessKeyID
	kUserName
	kInvokedBy
	kOnBehalfOf
	kUserID
	kCredentialID
	kSessionContext
	kAttributes
	kMFAAuthenticated
	kCreationDate
	kSourceIdentity
	kEC2RoleDelivery
	kSessionIssuer
	kRecords
	kLogEvents
	kMessageType
	kDetailType
	kDetail
	kLogFiles
	kDigestStartTime
	kDigestEndTime
	kMessage
	numKeys
)

// keyNames lists the canonical spelling of every key. Keys that differ only
// in case ("sourceIpAddress", "eventId", "arn" in resources ...) are matched
// through lowerKeys.
var keyNames = [numKeys]string{
	kEventVersion:                 "eventVersion",
	kEventTime:                    "eventTime",
	kEventSource:                  "eventSource",
	kEventName:                    "eventName",
	kAWSRegion:                    "awsRegion",
	kSourceIPAddress:              "sourceIPAddress",
	kUserAgent:                    "userAgent",
	kErrorCode:                    "errorCode",
	kErrorMessage:                 "errorMessage",
	kRequestID:                    "requestID",
	kEventID:                      "eventID",
	kEventType:                    "eventType",
	kEventCategory:                "eventCategory",
	kAPIVersion:                   "apiVersion",
	kReadOnly:                     "readOnly",
	kManagementEvent:              "managementEvent",
	kRecipientAccountID:           "recipientAccountId",
	kSharedEventID:                "sharedEventID",
	kVPCEndpointID:                "vpcEndpointId",
	kVPCEndpointAccountID:         "vpcEndpointAccountId",
	kSessionCredentialFromConsole: "sessionCredentialFromConsole",
	kUserIdentity:                 "userIdentity",
	kResources:                    "resources",
	kRequestParameters:            "requestParameters",
	kResponseElements:             "responseElements",
	kAdditionalEventData:          "additionalEventData",
	kServiceEventDetails:          "serviceEventDetails",
	kType:                         "type",
	kPrincipalID:                  "principalId",
	kARN:                          "arn",
	kAccountID:                    "accountId",
	kAccessKeyID:                  "accessKeyId",
	kUserName:                     "userName",
	kInvokedBy:                    "invokedBy",
	kOnBehalfOf:                   "onBehalfOf",
	kUserID:                       "userId",
	kCredentialID:                 "credentialId",
	kSessionContext:               "sessionContext",
	kAttributes:                   "attributes",
	kMFAAuthenticated:             "mfaAuthenticated",
	kCreationDate:                 "creationDate",
	kSourceIdentity:               "sourceIdentity",
	kEC2RoleDelivery:              "ec2RoleDelivery",
	kSessionIssuer:                "sessionIssuer",
	kRecords:                      "Records",
	kLogEvents:                    "logEvents",
	kMessageType:                  "messageType",
	kDetailType:                   "detail-type",
	kDetail:                       "detail",
	kLogFiles:                     "logFiles",
	kDigestStartTime:              "digestStartTime",
	kDigestEndTime:                "digestEndTime",
	kMessage:                      "message",
}

// lowerKeys maps the lower-cased key names to their IDs.
var lowerKeys = func() map[string]keyID {
	m := make(map[string]keyID, numKeys)
	for id, name := range keyNames {
		if name != "" {
			m[string(toLower(nil, []byte(name)))] = keyID(id)
		}
	}
	return m
}()

func toLower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// lookupKey returns the ID of a key: exact spelling first (the switch is the
// hot path), then case-insensitively.
func lookupKey(k []byte) keyID {
	switch string(k) {
	case "eventVersion":
		return kEventVersion
	case "eventTime":
		return kEventTime
	case "eventSource":
		return kEventSource
	case "eventName":
		return kEventName
	case "awsRegion":
		return kAWSRegion
	case "sourceIPAddress":
		return kSourceIPAddress
	case "userAgent":
		return kUserAgent
	case "errorCode":
		return kErrorCode
	case "errorMessage":
		return kErrorMessage
	case "requestID":
		return kRequestID
	case "eventID":
		return kEventID
	case "eventType":
		return kEventType
	case "eventCategory":
		return kEventCategory
	case "apiVersion":
		return kAPIVersion
	case "readOnly":
		return kReadOnly
	case "managementEvent":
		return kManagementEvent
	case "recipientAccountId":
		return kRecipientAccountID
	case "sharedEventID":
		return kSharedEventID
	case "vpcEndpointId":
		return kVPCEndpointID
	case "vpcEndpointAccountId":
		return kVPCEndpointAccountID
	case "sessionCredentialFromConsole":
		return kSessionCredentialFromConsole
	case "userIdentity":
		return kUserIdentity
	case "resources":
		return kResources
	case "requestParameters":
		return kRequestParameters
	case "responseElements":
		return kResponseElements
	case "additionalEventData":
		return kAdditionalEventData
	case "serviceEventDetails":
		return kServiceEventDetails
	case "type":
		return kType
	case "principalId":
		return kPrincipalID
	case "arn", "ARN":
		return kARN
	case "accountId":
		return kAccountID
	case "accessKeyId":
		return kAccessKeyID
	case "userName":
		return kUserName
	case "invokedBy":
		return kInvokedBy
	case "onBehalfOf":
		return kOnBehalfOf
	case "userId":
		return kUserID
	case "credentialId":
		return kCredentialID
	case "sessionContext":
		return kSessionContext
	case "attributes":
		return kAttributes
	case "mfaAuthenticated":
		return kMFAAuthenticated
	case "creationDate":
		return kCreationDate
	case "sourceIdentity":
		return kSourceIdentity
	case "ec2RoleDelivery":
		return kEC2RoleDelivery
	case "sessionIssuer":
		return kSessionIssuer
	case "Records":
		return kRecords
	case "logEvents":
		return kLogEvents
	case "messageType":
		return kMessageType
	case "detail-type":
		return kDetailType
	case "detail":
		return kDetail
	case "logFiles":
		return kLogFiles
	case "digestStartTime":
		return kDigestStartTime
	case "digestEndTime":
		return kDigestEndTime
	case "message":
		return kMessage
	}
	if len(k) > 32 {
		return kUnknown
	}
	var tmp [32]byte
	return lowerKeys[string(toLower(tmp[:0], k))]
}
