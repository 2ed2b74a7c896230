package input

import (
	"reflect"
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// rowsOpts is a calling customer's options, changed by change when not nil.
func rowsOpts(change func(*RowsOptions)) RowsOptions {
	o := RowsOptions{
		Packages:       []string{"webex_calling", "webex_meetings", "cisco_calling_plan"},
		AdminEmail:     "it@mueller.example",
		DefaultCountry: "DE",
	}
	if change != nil {
		change(&o)
	}
	return o
}

func TestParseRowsValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		opts func(*RowsOptions)
		want []request.UserRow
	}{
		{
			name: "no header, semicolons, defaults",
			text: "Anna,Muster,anna@x.example,,+49 30 555001;Bob,B,bob@X.example,webex_meetings",
			want: []request.UserRow{
				{Line: 1, First: "Anna", Last: "Muster", Email: "anna@x.example", Package: "webex_calling", Phone: "+4930555001", Location: "HQ"},
				{Line: 2, First: "Bob", Last: "B", Email: "bob@x.example", Package: "webex_meetings", Location: "HQ"},
			},
		},
		{
			name: "quoted cells keep commas and semicolons",
			text: "\"van Dijk, Jr.\",\"A;B\",jr@x.example,webex_calling,auto,,\"Köln\"\n",
			want: []request.UserRow{{Line: 1, First: "van Dijk, Jr.", Last: "A;B", Email: "jr@x.example", Package: "webex_calling", Phone: "auto", Location: "Köln"}},
		},
		{
			name: "newlines, blank lines and extension only",
			text: "\nAnna,Muster,anna@x.example,webex_calling,,1001\r\n\r\n;Carl,C,carl@x.example,webex_calling,030555002\n",
			want: []request.UserRow{
				{Line: 1, First: "Anna", Last: "Muster", Email: "anna@x.example", Package: "webex_calling", Extension: "1001", Location: "HQ"},
				{Line: 2, First: "Carl", Last: "C", Email: "carl@x.example", Package: "webex_calling", Phone: "+4930555002", Location: "HQ"},
			},
		},
		{
			name: "Control Hub header in another order",
			text: "Display Name,User ID/Email (Required),Last Name,First Name,Extension,Phone Number,Location\n" +
				"Anna M,anna@x.example,Muster,Anna,1001,,Berlin",
			want: []request.UserRow{{Line: 1, First: "Anna", Last: "Muster", Email: "anna@x.example", Package: "webex_calling", Extension: "1001", Location: "Berlin"}},
		},
		{
			name: "plain header, case-insensitive",
			text: "EMAIL,FIRST,LAST,PACKAGE\nm@x.example,M,N,webex_meetings",
			want: []request.UserRow{{Line: 1, First: "M", Last: "N", Email: "m@x.example", Package: "webex_meetings", Location: "HQ"}},
		},
		{
			name: "admin with primary package, existing user not counted",
			text: "It,Admin,IT@mueller.example,webex_calling,auto;Old,User,old@x.example,webex_calling,,1002;New,User,new@x.example,webex_calling,,1003",
			opts: func(o *RowsOptions) {
				o.Limits = map[string]int{"webex_calling": 10}
				o.Provisioned = map[string]int{"webex_calling": 8}
				o.Existing = map[string]bool{"OLD@x.example": true}
			},
			want: []request.UserRow{
				{Line: 1, First: "It", Last: "Admin", Email: "IT@mueller.example", Package: "webex_calling", Phone: "auto", Location: "HQ"},
				{Line: 2, First: "Old", Last: "User", Email: "old@x.example", Package: "webex_calling", Extension: "1002", Location: "HQ", AlreadyExists: true},
				{Line: 3, First: "New", Last: "User", Email: "new@x.example", Package: "webex_calling", Extension: "1003", Location: "HQ"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, errs := ParseRows(tt.text, rowsOpts(tt.opts))
			if errs != nil {
				t.Fatalf("errors: %v", errs)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("rows =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseRowsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		opts func(*RowsOptions)
		key  string
		msg  string
	}{
		{"invalid phone", "A,B,a@x.example;C,D,c@x.example;E,F,e@x.example,webex_calling,+49 123", nil, "row 3: phone", `row 3: phone: "+49 123" is not a valid phone number`},
		{"calling row without number", "A,B,a@x.example,webex_calling", nil, "row 1: phone", "calling package: give a phone number (or auto) or an extension"},
		{"meetings row with a number", "A,B,a@x.example,webex_meetings,auto", nil, "row 1: phone", "webex_meetings is not a calling package"},
		{"extension too short", "A,B,a@x.example,webex_calling,,1", nil, "row 1: extension", `"1" is not an extension (2 to 10 digits)`},
		{"extension letters", "A,B,a@x.example,webex_calling,,12a", nil, "row 1: extension", "2 to 10 digits"},
		{"not a subscriber package", "A,B,a@x.example,cisco_calling_plan,auto", nil, "row 1: package", `"cisco_calling_plan" is not a subscriber package`},
		{"not the customer's package", "A,B,a@x.example,webex_suite,auto", nil, "row 1: package", `"webex_suite" is not one of the customer's packages (webex_calling, webex_meetings, cisco_calling_plan)`},
		{"unknown package", "A,B,a@x.example,webex_golf,auto", nil, "row 1: package", "not a Webex package"},
		{"duplicate email", "A,B,a@x.example,webex_meetings;C,D,A@X.example,webex_meetings", nil, "row 2: email", `"A@x.example" is also in row 1`},
		{"duplicate of an invalid row", "A,B,a@x.example,webex_golf;C,D,a@x.example,webex_meetings", nil, "row 2: email", "is also in row 1"},
		{"bad email", "A,B,nope,webex_meetings", nil, "row 1: email", `row 1: email: "nope" is not an email address`},
		{"missing names", ",,a@x.example,webex_meetings", nil, "row 1: first", "missing"},
		{"admin must get primary", "It,Admin,it@mueller.example,webex_meetings", nil, "row 1: package", "must get the primary package webex_calling"},
		{"too many columns", "a,b,c@x.example,webex_meetings,,,HQ,extra", nil, "row 1", "8 columns, at most 7"},
		{"bad CSV", "A,\"B,a@x.example", nil, "rows", "not valid CSV"},
		{"empty", " ;\n", nil, "rows", "no user rows"},
		{"header without email", "First,Last\nA,B", nil, "rows", "no email column"},
		{"header names twice", "First,Last,Email,E-Mail\nA,B,a@x.example,b@x.example", nil, "rows", "names email twice"},
		{"location too long", "A,B,a@x.example,webex_meetings,,," + strings.Repeat("ö", 81), nil, "row 1: location", "81 characters, at most 80"},
		{
			"limit exceeded", "A,B,a@x.example,,,1001;C,D,c@x.example,,,1002;E,F,e@x.example,,,1003",
			func(o *RowsOptions) {
				o.Limits = map[string]int{"webex_calling": 10}
				o.Provisioned = map[string]int{"webex_calling": 8}
			},
			"row 3: package", "only 2 webex_calling users are left (limit.webex_calling=10, 8 already provisioned) and the rows add 3",
		},
		{"national number without country", "A,B,a@x.example,,030555001", func(o *RowsOptions) { o.DefaultCountry = "" }, "row 1: phone", "E.164"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, errs := ParseRows(tt.text, rowsOpts(tt.opts))
			if rows != nil {
				t.Fatalf("rows returned despite errors: %+v", rows)
			}
			if !errs.Has(tt.key) || !strings.Contains(errs.Error(), tt.msg) {
				t.Fatalf("errors %q lack key %q with %q", errs.Error(), tt.key, tt.msg)
			}
		})
	}
}

func FuzzParseRows(f *testing.F) {
	for _, s := range []string{
		"Anna,Muster,anna@x.example,,+49 30 555001;Bob,B,bob@x.example,webex_meetings",
		"First Name,Last Name,User ID/Email (Required),Phone Number,Extension,Location\nA,B,a@x.example,auto,,HQ",
		"\"van Dijk, Jr.\",\"A;B\",jr@x.example,webex_calling,auto",
		"a,\"b", ";;;", "\"\"\"", "x,y,z@q.example,,+999999999999999999999999",
		"A,B,a@x.example,,0049 (0)30-555 001 ext. 12",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		rows, errs := ParseRows(text, rowsOpts(func(o *RowsOptions) { o.Limits = map[string]int{"webex_calling": 3} }))
		if (rows == nil) == (errs == nil) {
			t.Fatalf("want rows xor errors, got %v and %v", rows, errs)
		}
		for i, r := range rows {
			if r.Line != i+1 || r.Email == "" || r.Package == "" || r.Location == "" {
				t.Fatalf("bad row %+v", r)
			}
			if request.CallingSubscriberPackage(r.Package) == (r.Phone == "" && r.Extension == "") {
				t.Fatalf("calling row without number or meetings row with one: %+v", r)
			}
		}
	})
}

// TestRowErrorsNameTheFileLine: errors of rows from a file name the line a
// spreadsheet shows as well as the data row; a header and a quoted cell
// spanning lines make the two differ. Rows given on one line have no line.
func TestRowErrorsNameTheFileLine(t *testing.T) {
	t.Parallel()
	file := "First Name,Last Name,User ID/Email (Required),Package\n" +
		"Anna,Muster,anna@x.example,webex_meetings\n" +
		"\"Ben\nBerg\",Beispiel,ben@x.example,webex_meetings\n" +
		"Cara,Cell,not-an-email,webex_meetings\n"
	_, errs := ParseRows(file, rowsOpts(nil))
	if len(errs) != 2 || errs[0].Key != "row 2 (line 3): first" || errs[1].Key != "row 3 (line 5): email" {
		t.Fatalf("errors %v, want row 2 (line 3): first and row 3 (line 5): email", errs)
	}
	_, errs = ParseRows("Anna,Muster,anna@x.example,webex_meetings;Cara,Cell,not-an-email,webex_meetings", rowsOpts(nil))
	if len(errs) != 1 || errs[0].Key != "row 2: email" {
		t.Fatalf("errors %v, want one keyed row 2: email (one line: no file line)", errs)
	}
	_, errs = ParseRows("a,b,a@x.example\nc,\"d,e@x.example\n", rowsOpts(nil))
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "on line 2") {
		t.Fatalf("errors %v, want broken CSV named by its line", errs)
	}
}
