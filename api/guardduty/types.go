package guardduty

// Member is an account administered by another (GuardDuty's Member shape).
type Member struct {
	AccountID          string `json:"accountId"`
	AdministratorID    string `json:"administratorId"`
	Email              string `json:"email"`
	RelationshipStatus string `json:"relationshipStatus"` // Created, Invited, Enabled, Disabled, Removed, Resigned ...
	InvitedAt          string `json:"invitedAt,omitempty"`
	UpdatedAt          string `json:"updatedAt"`
	InvitationID       string `json:"invitationId,omitempty"`
}

// Invitation is an invitation an account received.
type Invitation struct {
	AccountID          string `json:"accountId"` // the inviting administrator
	InvitationID       string `json:"invitationId"`
	RelationshipStatus string `json:"relationshipStatus"`
	InvitedAt          string `json:"invitedAt"`
}

// Destination is a publishing destination (findings export).
type Destination struct {
	ID                              string `json:"id"`
	DetectorID                      string `json:"detectorId"`
	Account                         string `json:"account"`
	Region                          string `json:"region"`
	DestinationType                 string `json:"destinationType"` // S3
	DestinationArn                  string `json:"destinationArn"`
	KmsKeyArn                       string `json:"kmsKeyArn"`
	Status                          string `json:"status"`
	PublishingFailureStartTimestamp int64  `json:"publishingFailureStartTimestamp,omitempty"`
	// LastExported is the updatedAt of the newest finding exported so far.
	LastExported string `json:"lastExported,omitempty"`
}
