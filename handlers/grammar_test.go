package handlers

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onboardbot/onboardbot/provisioning/input"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		words []string
		args  map[string]string
		keys  []string
	}{
		{name: "empty", text: "  ", args: map[string]string{}},
		{name: "words only", text: "template activate de-standard", words: []string{"template", "activate", "de-standard"}, args: map[string]string{}},
		{
			name:  "slack escaped ampersand in quotes",
			text:  `new name="Müller &amp; Söhne GmbH" email=it@mueller.example`,
			words: []string{"new"},
			args:  map[string]string{"name": "Müller & Söhne GmbH", "email": "it@mueller.example"},
			keys:  []string{"name", "email"},
		},
		{
			name: "escapes undone once",
			text: `name=a&amp;lt;b&gt;`,
			args: map[string]string{"name": "a&lt;b>"},
			keys: []string{"name"},
		},
		{name: "no sub-command", text: `email=a@b.example`, args: map[string]string{"email": "a@b.example"}, keys: []string{"email"}},
		{name: "single quotes", text: `name='A B'`, args: map[string]string{"name": "A B"}, keys: []string{"name"}},
		{name: "typographic double", text: `name=“A = B”`, args: map[string]string{"name": "A = B"}, keys: []string{"name"}},
		{name: "typographic single", text: `name=‘A B’`, args: map[string]string{"name": "A B"}, keys: []string{"name"}},
		{name: "equals in unquoted value", text: `order=a=b`, args: map[string]string{"order": "a=b"}, keys: []string{"order"}},
		{name: "empty value", text: `name= email=""`, args: map[string]string{"name": "", "email": ""}, keys: []string{"name", "email"}},
		{name: "dotted and underscored key", text: `limit.webex_calling=20`, args: map[string]string{"limit.webex_calling": "20"}, keys: []string{"limit.webex_calling"}},
		{
			name:  "positional customer then rows",
			text:  `users MS-001 rows='Anna,Muster,anna@x.example'`,
			words: []string{"users", "MS-001"},
			args:  map[string]string{"rows": "Anna,Muster,anna@x.example"},
			keys:  []string{"rows"},
		},
		{
			name: "backslash-escaped CSV quotes",
			text: `rows="a,b,\"x, y\""`,
			args: map[string]string{"rows": `a,b,"x, y"`},
			keys: []string{"rows"},
		},
		{
			name: "doubled CSV quotes",
			text: `rows="a,b,""x, y"""`,
			args: map[string]string{"rows": `a,b,"x, y"`},
			keys: []string{"rows"},
		},
		{
			name: "CSV quotes inside single quotes",
			text: `rows='a,b,"x, y"'`,
			args: map[string]string{"rows": `a,b,"x, y"`},
			keys: []string{"rows"},
		},
		{
			name: "unquoted row keeps a quoted cell with spaces",
			text: `rows=Anna,"van Dijk",anna@x.example;Bob,B,b@x.example`,
			args: map[string]string{"rows": `Anna,"van Dijk",anna@x.example;Bob,B,b@x.example`},
			keys: []string{"rows"},
		},
		{
			name: "row starting with a quoted cell",
			text: `rows="Anna Maria",Muster,anna@x.example`,
			args: map[string]string{"rows": `"Anna Maria",Muster,anna@x.example`},
			keys: []string{"rows"},
		},
		{
			name: "newlines in a quoted value",
			text: "rows=\"a,b,a@x.example\nc,d,c@x.example\" name=x",
			args: map[string]string{"rows": "a,b,a@x.example\nc,d,c@x.example", "name": "x"},
			keys: []string{"rows", "name"},
		},
		{
			name:  "base64 org id with padding is a word",
			text:  "users Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81== rows=a,b,c@x.example",
			words: []string{"users", "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81=="},
			args:  map[string]string{"rows": "a,b,c@x.example"},
			keys:  []string{"rows"},
		},
		{name: "German quotes", text: `name=„Müller & Söhne“`, args: map[string]string{"name": "Müller & Söhne"}, keys: []string{"name"}},
		{name: "French quotes", text: `name=«A B»`, args: map[string]string{"name": "A B"}, keys: []string{"name"}},
		{
			name: "Slack link markup unwrapped",
			text: `email=<mailto:it@mueller.example|it@mueller.example> order=<http://t.example/7|t.example/7> brand=<https://b.example>`,
			args: map[string]string{"email": "it@mueller.example", "order": "t.example/7", "brand": "https://b.example"},
			keys: []string{"email", "order", "brand"},
		},
		{name: "escaped angle brackets are text", text: `name="&lt;mailto:x|y&gt;"`, args: map[string]string{"name": "<mailto:x|y>"}, keys: []string{"name"}},
		{name: "apostrophe in unquoted value", text: `name=O'Brien`, args: map[string]string{"name": "O'Brien"}, keys: []string{"name"}},
		{name: "non-breaking space separates", text: "name=a\u00a0email=b", args: map[string]string{"name": "a", "email": "b"}, keys: []string{"name", "email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCommand(tt.text)
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tt.text, err)
			}
			if !reflect.DeepEqual(got.Words, tt.words) || !reflect.DeepEqual(got.Args, tt.args) || !reflect.DeepEqual(got.Keys, tt.keys) {
				t.Errorf("ParseCommand(%q) = %#v, want words %#v args %#v keys %#v", tt.text, got, tt.words, tt.args, tt.keys)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		key        string
		want       []string // substrings of the message
	}{
		{name: "unterminated double quote", text: `new name="Müller GmbH email=a@b.example`, key: "name", want: []string{"name:", `"`, "not closed"}},
		{name: "unterminated typographic quote", text: `new name=“Müller`, key: "name", want: []string{"name:", "“", "”"}},
		{name: "unterminated single quote", text: `rows='a,b`, key: "rows", want: []string{"rows:", "'"}},
		{name: "duplicate key", text: `name=a email=b name=c`, key: "name", want: []string{"name: given twice"}},
		{name: "word after pair", text: `new name=Müller Söhne email=a@b.example`, want: []string{`"Söhne"`, "after name=", "quote values"}},
		{name: "upper-case key", text: `Name=x`, key: "Name", want: []string{`"Name"`, "lower-case", "name="}},
		{name: "upper-case key without value", text: `new Name= email=x`, key: "Name", want: []string{"lower-case"}},
		{name: "empty key", text: `=x`, want: []string{"without a key"}},
		{name: "text after closing quote", text: `name="a"b`, key: "name", want: []string{"name:", "closing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCommand(tt.text)
			var serr *SyntaxError
			if !errors.As(err, &serr) {
				t.Fatalf("ParseCommand(%q) error = %v, want *SyntaxError", tt.text, err)
			}
			if serr.Key != tt.key {
				t.Errorf("Key = %q, want %q", serr.Key, tt.key)
			}
			for _, w := range tt.want {
				if !strings.Contains(serr.Message, w) {
					t.Errorf("message %q does not contain %q", serr.Message, w)
				}
			}
		})
	}
}

// The README's first example, as Slack sends it, goes through the grammar and the
// customer validation in one piece.
func TestCommandToCustomer(t *testing.T) {
	t.Parallel()
	const valid = `new name="Müller &amp; Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE ` +
		`package=webex_calling provisioning-id=PROV-DE-1 supported-location=yes address="Hauptstraße 1" ` +
		`city=Berlin zip=10115 timezone=Europe/Berlin language=de_DE`
	cmd, err := ParseCommand(valid)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cmd.Words, []string{"new"}) {
		t.Fatalf("words = %v", cmd.Words)
	}
	spec, missing, errs := input.ParseCustomer(cmd.Args, input.CustomerOptions{})
	if spec == nil {
		t.Fatalf("missing %v, errs %v", missing, errs)
	}
	if spec.Name != "Müller & Söhne GmbH" || spec.Address.Line1 != "Hauptstraße 1" || spec.ExternalID != "MS-001" {
		t.Errorf("spec = %+v", spec)
	}

	for _, tt := range []struct{ change, key string }{
		{"email=not-an-email", "email"},
		{"country=XX", "country"},
		{"timezone=Mars/Base", "timezone"},
		{"package=webex_golf", "package"},
		{`address="` + strings.Repeat("ü", 51) + `"`, "address"},
		{"external-id=R-5", "external-id"},
		{"external-id=10042", "external-id"},
	} {
		key, _, _ := strings.Cut(tt.change, "=")
		text := strings.Replace(valid, " "+key+"=", " "+tt.change+" old-"+key+"=", 1)
		cmd, err := ParseCommand(text)
		if err != nil {
			t.Fatalf("%s: %v", tt.change, err)
		}
		delete(cmd.Args, "old-"+key)
		_, _, errs := input.ParseCustomer(cmd.Args, input.CustomerOptions{})
		if !errs.Has(tt.key) || !strings.HasPrefix(errs.Error(), tt.key+": ") {
			t.Errorf("%s: errors %q do not name %s", tt.change, errs.Error(), tt.key)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`new name="Müller &amp; Söhne GmbH" email=it@mueller.example external-id=MS-001 country=DE`,
		`template activate de-standard provisioning-id=PROV-1`,
		`users MS-001 rows="a,b,\"x, y\""`,
		`rows=Anna,"van Dijk",a@x.example;B,C,b@x.example`,
		`rows="Anna Maria",M,a@x.example`,
		`name=“x” y=‘z’ q='it''s'`,
		`name="unterminated`, `a=1 a=2`, `k=v word`, `=`, `"`, `\`, "\xff=\xfe", `a="b""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := ParseCommand(text)
		if err != nil {
			var serr *SyntaxError
			if !errors.As(err, &serr) || serr.Message == "" {
				t.Fatalf("error %v is not a *SyntaxError with a message", err)
			}
			return
		}
		if len(cmd.Keys) != len(cmd.Args) {
			t.Fatalf("keys %v and args %v disagree", cmd.Keys, cmd.Args)
		}
		for _, k := range cmd.Keys {
			if _, ok := cmd.Args[k]; !ok || k == "" || !utf8.ValidString(k) {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}
