// Command interop is the Go consumer of the ona-pats schema (the seed's second language).
//
// Its gitpod.v1 types are generated from proto/ by buf and Debian's protoc-gen-go into a
// temporary GOPATH by tests/interop/test_go.py, which also starts the embedded server.
//
//	interop vectors DIR                       re-encode every shared vector (binary, protojson)
//	interop client BASE_URL TOKEN OTHER_USER  create, list every page, get, delete and error
//	                                          mapping against a server, with both codecs
//
// The client speaks the Connect unary protocol on net/http (connect-go cannot be fetched
// here): a POST of application/proto or application/json; an error is a JSON body with a code.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"

	gitpodv1 "onapats.test/interop/gen/gitpod/v1"
)

const service = "/gitpod.v1.UserService/"

func main() {
	if len(os.Args) < 2 {
		fail("usage: interop vectors DIR | interop client BASE_URL TOKEN OTHER_USER")
	}
	var err error
	switch os.Args[1] {
	case "vectors":
		err = checkVectors(os.Args[2])
	case "client":
		err = runClient(os.Args[2], os.Args[3], os.Args[4])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "interop:", message)
	os.Exit(1)
}

// --- vectors -------------------------------------------------------------------------------

type vector struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Binary string `json:"binary"`
	JSON   string `json:"json"`
}

func checkVectors(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var manifest struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return err
	}
	mismatches := 0
	for _, v := range manifest.Vectors {
		for _, problem := range checkVector(dir, v) {
			fmt.Fprintf(os.Stderr, "mismatch: %s (%s): %s\n", v.Name, v.Type, problem)
			mismatches++
		}
	}
	fmt.Printf("{\"vectors\": %d, \"mismatches\": %d}\n", len(manifest.Vectors), mismatches)
	if mismatches > 0 {
		return errors.New("vector mismatches")
	}
	return nil
}

func checkVector(dir string, v vector) []string {
	kind, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(v.Type))
	if err != nil {
		return []string{"unknown message type"}
	}
	wire, err1 := os.ReadFile(filepath.Join(dir, v.Binary))
	text, err2 := os.ReadFile(filepath.Join(dir, v.JSON))
	if err1 != nil || err2 != nil {
		return []string{"cannot read the vector files"}
	}
	fromWire := kind.New().Interface()
	fromText := kind.New().Interface()
	if err := proto.Unmarshal(wire, fromWire); err != nil {
		return []string{"binary does not decode: " + err.Error()}
	}
	if err := protojson.Unmarshal(text, fromText); err != nil {
		return []string{"JSON does not decode: " + err.Error()}
	}
	var problems []string
	deterministic := proto.MarshalOptions{Deterministic: true}
	if again, _ := deterministic.Marshal(fromWire); !bytes.Equal(again, wire) {
		problems = append(problems, "binary does not re-encode to the same bytes")
	}
	if again, _ := deterministic.Marshal(fromText); !bytes.Equal(again, wire) {
		problems = append(problems, "the JSON message, as binary, differs from the binary file")
	}
	if !jsonEqual(fromText, text) {
		problems = append(problems, "JSON does not re-encode to equal JSON")
	}
	if !jsonEqual(fromWire, text) {
		problems = append(problems, "the binary message, as JSON, differs from the JSON file")
	}
	return problems
}

func jsonEqual(message proto.Message, want []byte) bool {
	got, err := protojson.Marshal(message)
	if err != nil {
		return false
	}
	var a, b interface{}
	if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// --- a Connect client on net/http ----------------------------------------------------------

type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"-"`
}

func (e *connectError) Error() string { return e.Code + ": " + e.Message }

type client struct {
	base, token, codec string
	http               *http.Client
}

func (c *client) call(method string, in, out proto.Message) error {
	var body []byte
	var err error
	if c.codec == "json" {
		body, err = protojson.Marshal(in)
	} else {
		body, err = proto.Marshal(in)
	}
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, c.base+service+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/"+c.codec)
	req.Header.Set("Connect-Protocol-Version", "1")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		// https://connectrpc.com/docs/protocol/#error-end-stream: a JSON error body.
		wireErr := &connectError{Status: resp.StatusCode}
		if json.Unmarshal(data, wireErr) != nil || wireErr.Code == "" {
			return fmt.Errorf("HTTP %d without a Connect error body", resp.StatusCode)
		}
		return wireErr
	}
	if c.codec == "json" {
		return protojson.Unmarshal(data, out)
	}
	return proto.Unmarshal(data, out)
}

func codeOf(err error) string {
	var wireErr *connectError
	if errors.As(err, &wireErr) {
		return wireErr.Code
	}
	if err == nil {
		return "ok"
	}
	return "transport: " + err.Error()
}

type report struct {
	Codec   string            `json:"codec"`
	Created []string          `json:"created"`
	Listed  []string          `json:"listed"`
	Pages   int               `json:"pages"`
	Got     string            `json:"got"`
	Deleted string            `json:"deleted"`
	Errors  map[string]string `json:"errors"`
}

func runClient(base, token, otherUser string) error {
	httpClient := &http.Client{Timeout: 30 * time.Second}
	for _, codec := range []string{"proto", "json"} {
		c := &client{base: base, token: token, codec: codec, http: httpClient}
		r, err := exercise(c, otherUser)
		if err != nil {
			return fmt.Errorf("%s: %w", codec, err)
		}
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
	return nil
}

func exercise(c *client, otherUser string) (*report, error) {
	r := &report{Codec: c.codec, Errors: map[string]string{}}
	var me gitpodv1.ListPersonalAccessTokensResponse
	if err := c.call("ListPersonalAccessTokens", &gitpodv1.ListPersonalAccessTokensRequest{}, &me); err != nil {
		return nil, err
	}
	if len(me.PersonalAccessTokens) == 0 {
		return nil, errors.New("the caller sees no token of its own")
	}
	userID := me.PersonalAccessTokens[0].UserId
	for i := 0; i < 5; i++ {
		var created gitpodv1.CreatePersonalAccessTokenResponse
		request := &gitpodv1.CreatePersonalAccessTokenRequest{
			UserId:      userID,
			Description: fmt.Sprintf("go %s %d", c.codec, i),
			ValidFor:    durationpb.New(24 * time.Hour),
		}
		if err := c.call("CreatePersonalAccessToken", request, &created); err != nil {
			return nil, err
		}
		if created.Token == "" {
			return nil, errors.New("a create answered no secret")
		}
	}
	token := ""
	for {
		var page gitpodv1.ListPersonalAccessTokensResponse
		request := &gitpodv1.ListPersonalAccessTokensRequest{
			Pagination: &gitpodv1.PaginationRequest{Token: token, PageSize: 2},
		}
		if err := c.call("ListPersonalAccessTokens", request, &page); err != nil {
			return nil, err
		}
		r.Pages++
		for _, pat := range page.PersonalAccessTokens {
			r.Listed = append(r.Listed, pat.Id)
			if pat.Description == fmt.Sprintf("go %s 0", c.codec) || pat.Description == fmt.Sprintf("go %s 1", c.codec) {
				r.Created = append(r.Created, pat.Id)
			}
		}
		token = page.GetPagination().GetNextToken()
		if token == "" || r.Pages > 1000 {
			break
		}
	}
	sort.Strings(r.Created)
	if len(r.Created) != 2 {
		return nil, fmt.Errorf("expected to list the 2 marked tokens, found %d", len(r.Created))
	}
	var got gitpodv1.GetPersonalAccessTokenResponse
	getReq := &gitpodv1.GetPersonalAccessTokenRequest{PersonalAccessTokenId: r.Created[0]}
	if err := c.call("GetPersonalAccessToken", getReq, &got); err != nil {
		return nil, err
	}
	r.Got = got.GetPat().GetId()
	var deleted gitpodv1.DeletePersonalAccessTokenResponse
	delReq := &gitpodv1.DeletePersonalAccessTokenRequest{PersonalAccessTokenId: r.Created[1]}
	if err := c.call("DeletePersonalAccessToken", delReq, &deleted); err != nil {
		return nil, err
	}
	r.Deleted = r.Created[1]

	var ignored gitpodv1.GetPersonalAccessTokenResponse
	r.Errors["not_found"] = codeOf(c.call("GetPersonalAccessToken",
		&gitpodv1.GetPersonalAccessTokenRequest{PersonalAccessTokenId: r.Deleted}, &ignored))
	r.Errors["invalid_argument"] = codeOf(c.call("GetPersonalAccessToken",
		&gitpodv1.GetPersonalAccessTokenRequest{PersonalAccessTokenId: "not-a-uuid"}, &ignored))
	var list gitpodv1.ListPersonalAccessTokensResponse
	r.Errors["permission_denied"] = codeOf(c.call("ListPersonalAccessTokens",
		&gitpodv1.ListPersonalAccessTokensRequest{
			Filter: &gitpodv1.ListPersonalAccessTokensRequest_Filter{UserIds: []string{otherUser}},
		}, &list))
	stranger := &client{base: c.base, token: "not-a-valid-token-0123456789", codec: c.codec, http: c.http}
	r.Errors["unauthenticated"] = codeOf(stranger.call("ListPersonalAccessTokens",
		&gitpodv1.ListPersonalAccessTokensRequest{}, &list))
	return r, nil
}
