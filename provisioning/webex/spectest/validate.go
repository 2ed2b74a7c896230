package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// options are strict on purpose: an undocumented status fails, every schema is checked, and
// error messages name the JSON pointer without dumping the whole schema.
func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:              true,
		IncludeResponseStatus:   true,
		AuthenticationFunc:      acceptBearer,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
}

// acceptBearer satisfies any security scheme the specs declare (oauth2, bearer) when the
// request carries a Bearer token. Whether the token is any good is the server's business,
// not the contract's.
func acceptBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) != "" {
		return nil
	}
	return errors.New("no Bearer token in the Authorization header")
}

// ValidateRequest checks req (whose body is given separately, as req.Body may be consumed)
// against the operation its method and path resolve to. On a mismatch the test fails with
// t.Errorf — not Fatal, so it is safe from handler goroutines — and "" is returned when no
// operation matched. The result is the operation key, e.g. "POST /wholesale/customers".
func (s *Spec) ValidateRequest(t testing.TB, req *http.Request, body []byte) (operation string) {
	t.Helper()
	in, rt, err := s.requestInput(req, body)
	if err != nil {
		t.Errorf("spectest: %s %s: %v", req.Method, req.URL.Path, err)
		return ""
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Errorf("spectest: request %s (%s %s) does not match %s:\n%s\nbody: %s",
			rt.key, req.Method, req.URL.RequestURI(), rt.file, describe(err), excerpt(body))
	}
	s.cover(rt.key)
	return rt.key
}

// ValidateResponse checks a response (status, header, body) to req against the operation
// req resolves to. Statuses the operation does not document fail. Failures use t.Errorf.
func (s *Spec) ValidateResponse(t testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) (operation string) {
	t.Helper()
	in, rt, err := s.requestInput(req, reqBody)
	if err != nil {
		t.Errorf("spectest: %s %s: %v", req.Method, req.URL.Path, err)
		return ""
	}
	for _, b := range responseVariants(rt.key, respBody) {
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 status,
			Header:                 header,
			Options:                in.Options,
		}
		out.SetBodyBytes(b)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("spectest: response %d to %s (%s %s) does not match %s:\n%s\nbody: %s",
				status, rt.key, req.Method, req.URL.RequestURI(), rt.file, describe(err), excerpt(respBody))
			break
		}
	}
	s.cover(rt.key)
	return rt.key
}

func (s *Spec) requestInput(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, *route, error) {
	rt, params, err := s.lib.find(req.Method, req.URL)
	if err != nil {
		return nil, nil, err
	}
	// A private copy: validation reads the body and may set defaults on it.
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	return &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      rt.r,
		Options:    options(),
	}, rt, nil
}

// precheckOps return {message, info} where the schema (CustomerProvisioningPrecheckResponse,
// SubscriberProvisioningPrecheckResponse) says info is one object {infoCode, description}
// but the spec's own example for the same response shows an array of them.
// The spec contradicts itself, so for these two operations only an array is accepted when
// each element, put in place of the array, validates against the schema. Nothing else is
// relaxed: an object is still checked as the schema says, and any other field still is.
var precheckOps = map[string]bool{
	"POST /wholesale/customers/validate":   true,
	"POST /wholesale/subscribers/validate": true,
}

// responseVariants returns the bodies to validate for one response: the body itself, or for
// a precheck answer with an info array, one body per element.
func responseVariants(key string, body []byte) [][]byte {
	if !precheckOps[key] {
		return [][]byte{body}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return [][]byte{body}
	}
	var infos []json.RawMessage
	if json.Unmarshal(obj["info"], &infos) != nil {
		return [][]byte{body}
	}
	if len(infos) == 0 {
		// An empty list says nothing; validate it as absent rather than as a bad object.
		delete(obj, "info")
		b, _ := json.Marshal(obj)
		return [][]byte{b}
	}
	var out [][]byte
	for _, info := range infos {
		obj["info"] = info
		b, _ := json.Marshal(obj)
		out = append(out, b)
	}
	return out
}

// describe flattens kin-openapi's nested multi-errors into one line per problem.
func describe(err error) string {
	var lines []string
	var walk func(error)
	walk = func(e error) {
		var me openapi3.MultiError
		if errors.As(e, &me) && len(me) > 0 {
			for _, sub := range me {
				walk(sub)
			}
			return
		}
		var req *openapi3filter.RequestError
		if errors.As(e, &req) {
			var inner openapi3.MultiError
			if errors.As(req.Err, &inner) {
				prefix := "request body"
				if req.Parameter != nil {
					prefix = fmt.Sprintf("parameter %q in %s", req.Parameter.Name, req.Parameter.In)
				}
				for _, sub := range inner {
					lines = append(lines, "  - "+prefix+": "+sub.Error())
				}
				return
			}
		}
		var resp *openapi3filter.ResponseError
		if errors.As(e, &resp) {
			var inner openapi3.MultiError
			if errors.As(resp.Err, &inner) {
				for _, sub := range inner {
					lines = append(lines, "  - "+resp.Reason+": "+sub.Error())
				}
				return
			}
		}
		lines = append(lines, "  - "+e.Error())
	}
	walk(err)
	return strings.Join(lines, "\n")
}

func excerpt(b []byte) string {
	const limit = 2000
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
