// Package web is what every HTTP adapter of the server shares: the one
// error path (an error's code picks the HTTP status and the ARM error code,
// from one table), JSON answers with ARM's error body, and request ids.
// Handlers return errors; Error writes them and logs the internal ones.
package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/partnerlink/partnerlink"
)

// codes maps each error code to its HTTP status and the ARM error code used
// when the error names none. This is the only such table (docs/api.md, "Errors").
var codes = map[string]struct {
	status  int
	armCode string
}{
	partnerlink.EINVALID:      {http.StatusBadRequest, "BadRequest"},
	partnerlink.ENOTFOUND:     {http.StatusNotFound, "NotFound"},
	partnerlink.ECONFLICT:     {http.StatusConflict, "Conflict"},
	partnerlink.EUNAUTHORIZED: {http.StatusUnauthorized, "AuthenticationFailed"},
	partnerlink.EFORBIDDEN:    {http.StatusForbidden, "AuthorizationFailed"},
	partnerlink.ETOOLARGE:     {http.StatusRequestEntityTooLarge, "RequestEntityTooLarge"},
	partnerlink.EMETHOD:       {http.StatusMethodNotAllowed, "MethodNotAllowed"},
	partnerlink.ETOOMANY:      {http.StatusTooManyRequests, "TooManyRequests"},
	partnerlink.EINTERNAL:     {http.StatusInternalServerError, "InternalServerError"},
}

// Status is the HTTP status of an error code (500 for an unknown code).
func Status(code string) int {
	if c, ok := codes[code]; ok {
		return c.status
	}
	return http.StatusInternalServerError
}

// ErrorBody is ARM's error body, {"error":{"code","message"}}, which every
// API of the server answers with.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an error body.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Body is the error body of err: its ARM code (the error's own, else the
// table's) and its user-facing message.
func Body(err error) ErrorBody {
	code := partnerlink.ErrorCode(err)
	arm := codes[code].armCode
	if arm == "" {
		arm = "InternalServerError"
	}
	var e *partnerlink.Error
	if errors.As(err, &e) && e.ARMCode != "" {
		arm = e.ARMCode
	}
	return ErrorBody{Error: ErrorDetail{Code: arm, Message: partnerlink.ErrorMessage(err)}}
}

// Error answers err with its status and error body. An internal error (one
// without a code) is logged with the request's id and method and path,
// since its text is not shown to the caller.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := partnerlink.ErrorCode(err)
	if code == partnerlink.EINTERNAL {
		if log == nil {
			log = slog.Default()
		}
		log.Error("internal error", "request_id", RequestID(w, r), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	JSON(w, Status(code), Body(err))
}

// JSON answers v as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// A value that cannot be encoded is a defect: logged, since the
		// caller sees only the generic answer.
		slog.Default().Error("web: the answer could not be encoded as JSON", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"Internal error."}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// RequestIDHeader carries the id of each answer, as ARM's x-ms-request-id.
const RequestIDHeader = "x-ms-request-id"

// RequestID is the id of the answer to r: the one already set on w, else a
// new one, set on w so the caller sees the id the log names.
func RequestID(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get(RequestIDHeader); id != "" {
		return id
	}
	id := partnerlink.NewGUID().String()
	w.Header().Set(RequestIDHeader, id)
	return id
}

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts fn to net/http: an error it returns is answered by Error.
func Handle(log *slog.Logger, fn HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			Error(w, r, log, err)
		}
	}
}
