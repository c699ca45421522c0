package sigv4

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error codes, spelled as the AWS REST-JSON services (GuardDuty, Security
// Hub) spell them on the wire. The SDKs surface them as
// smithy.APIError.ErrorCode() and the CLI prints them in parentheses.
const (
	// CodeMissingAuthenticationToken: the request carries neither an
	// Authorization header nor an X-Amz-Algorithm query parameter.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the Authorization header or presigning query
	// parameters are malformed or lack a required component.
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeUnrecognizedClient: unknown access key ID, or a session token that
	// does not belong to the key.
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeInvalidSignature: wrong signature, expired or future request time,
	// or a credential scope for another service.
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeRequestEntityTooLarge: the body exceeds Verifier.MaxBodyBytes.
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
	// CodeBadRequest: the body could not be read. GuardDuty models this code.
	CodeBadRequest = "BadRequestException"
	// CodeInternalServerError: anything that is the server's fault,
	// including a misconfigured Verifier. GuardDuty models this code.
	CodeInternalServerError = "InternalServerErrorException"
)

// Error is an authentication failure in the shape AWS reports it. Verify
// returns only *Error values; WriteError renders them for the SDKs and CLI.
//
// Message is public: it never contains a secret, a derived key or the
// signature the server computed.
type Error struct {
	Status  int    // HTTP status: 403 for every authentication failure
	Code    string // one of the Code* constants
	Message string // AWS-style human-readable message
}

func (e *Error) Error() string { return "sigv4: " + e.Code + ": " + e.Message }

func newError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

func incomplete(msg string) *Error {
	return newError(http.StatusForbidden, CodeIncompleteSignature, msg)
}

func invalidSig(msg string) *Error {
	return newError(http.StatusForbidden, CodeInvalidSignature, msg)
}

const (
	msgMissingToken = "Missing Authentication Token"
	msgUnrecognized = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// errorBody is the REST-JSON error document. The Go SDK reads the code from
// the X-Amzn-ErrorType header (falling back to "__type"/"code") and the
// message from "message"/"Message"; botocore does the same.
type errorBody struct {
	Message string `json:"message"`
	Type    string `json:"__type"`
}

// WriteError writes err as a REST-JSON AWS error response: status,
// X-Amzn-ErrorType header, Content-Type application/json and a body
// {"message": ..., "__type": ...}. An err that is not an *Error becomes a
// 500 InternalServerErrorException with a generic message, so internal
// details never reach the client.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(http.StatusInternalServerError, CodeInternalServerError, "Internal server error.")
	}
	b, _ := json.Marshal(errorBody{Message: e.Message, Type: e.Code})
	h := w.Header()
	h.Set("X-Amzn-Errortype", e.Code)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}
