package input

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// RowsOptions is what ParseRows checks rows against.
type RowsOptions struct {
	Packages       []string        // the customer's packages; the first is the primary package
	AdminEmail     string          // the customer's admin, who must get the primary package
	Limits         map[string]int  // ordered quantity per package; no entry = no cap
	Provisioned    map[string]int  // users per package already provisioned
	Existing       map[string]bool // emails that already are subscribers of the customer
	DefaultCountry string          // region for phone numbers written without +
	// DefaultLocation is the location of a row that names none; "" is HQ.
	DefaultLocation string
}

// Column names of a row, in the order of a header-less row.
const (
	colFirst = iota
	colLast
	colEmail
	colPackage
	colPhone
	colExtension
	colLocation
	numColumns
)

var columnNames = [numColumns]string{"first", "last", "email", "package", "phone", "extension", "location"}

// headerAliases maps a header cell, lower-cased with everything but letters
// and digits removed, to its column. Control Hub's user CSV names are here
// so an export can be pasted or uploaded as it is.
var headerAliases = map[string]int{
	"first": colFirst, "firstname": colFirst, "givenname": colFirst,
	"last": colLast, "lastname": colLast, "surname": colLast, "familyname": colLast,
	"email": colEmail, "emailaddress": colEmail, "mail": colEmail, "useridemail": colEmail,
	"useridemailrequired": colEmail, "userid": colEmail,
	"package": colPackage, "packages": colPackage,
	"phone": colPhone, "phonenumber": colPhone, "number": colPhone,
	"extension": colExtension, "ext": colExtension,
	"location": colLocation, "locationname": colLocation,
}

const maxPersonName = 255

// ParseRows reads user rows: RFC 4180 CSV records separated by newlines or
// by ';' outside quotes, with an optional header row. Every problem is
// reported, keyed "row N: field" (or "rows" for the whole input).
func ParseRows(text string, opts RowsOptions) ([]request.UserRow, FieldErrors) {
	var errs FieldErrors
	records, lines, err := readRecords(text)
	if err != nil {
		errs.Add("rows", err.Error())
		return nil, errs
	}
	cols, data := headerColumns(records, &errs)
	// The file line of each data record, as a spreadsheet numbers it (the
	// header is line 1); none when the rows were given on one line.
	dataLines := lines[len(records)-len(data):]
	if !strings.Contains(strings.TrimRight(text, "\r\n"), "\n") {
		dataLines = nil
	}
	rowKey := func(row int, field string) string {
		key := fmt.Sprintf("row %d", row)
		if dataLines != nil {
			key += fmt.Sprintf(" (line %d)", dataLines[row-1])
		}
		if field != "" {
			key += ": " + field
		}
		return key
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(data) == 0 {
		errs.Addf("rows", "no user rows (expected first,last,email[,package,phone,extension,location] per row)")
		return nil, errs
	}

	existing := lowerSet(opts.Existing)
	seen := map[string]int{} // lower-cased email → row
	var rows []request.UserRow
	for i, rec := range data {
		line := i + 1
		if cols == nil && len(rec) > numColumns {
			errs.Addf(rowKey(line, ""), "%d columns, at most %d (%s)", len(rec), numColumns, strings.Join(columnNames[:], ","))
			continue
		}
		cell := func(c int) string {
			idx := c
			if cols != nil {
				idx = cols[c]
			}
			if idx < 0 || idx >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[idx])
		}
		r, ok := parseRow(line, func(field string) string { return rowKey(line, field) }, cell, opts, &errs)
		key := strings.ToLower(r.Email)
		// Checked for invalid rows too, so one round of fixes is enough.
		if first, dup := seen[key]; dup {
			errs.Addf(rowKey(line, "email"), "%q is also in row %d; give each user once", r.Email, first)
			continue
		}
		if key != "" {
			seen[key] = line
		}
		if ok {
			r.AlreadyExists = existing[key]
			rows = append(rows, r)
		}
	}
	checkLimits(rows, opts, func(row int) string { return rowKey(row, "package") }, &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return rows, nil
}

// readRecords splits text into CSV records. ';' outside quotes ends a record
// so that several users fit on one command line. lines holds the line of
// text each record starts on (a quoted cell may span lines).
func readRecords(text string) (records [][]string, lines []int, err error) {
	var b strings.Builder
	inQuotes := false
	// origLine maps a line of what the CSV reader reads (';' made into
	// newlines) to the line of text it comes from.
	origLine := []int{0, 1}
	line := 1
	for _, r := range text {
		switch {
		case r == '"':
			inQuotes = !inQuotes // a doubled "" toggles twice: still right
		case r == ';' && !inQuotes:
			r = '\n'
			origLine = append(origLine, line)
		case r == '\n':
			line++
			origLine = append(origLine, line)
		}
		b.WriteRune(r)
	}
	cr := csv.NewReader(strings.NewReader(b.String()))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return records, lines, nil
		}
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				return nil, nil, fmt.Errorf("not valid CSV on line %d: %v (quote cells that contain commas or quotes, e.g. \"van Dijk, Jr.\")", origLine[min(perr.StartLine, len(origLine)-1)], perr.Err)
			}
			return nil, nil, fmt.Errorf("not valid CSV: %v", err)
		}
		if slices.ContainsFunc(rec, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			start, _ := cr.FieldPos(0)
			records = append(records, rec)
			lines = append(lines, origLine[min(start, len(origLine)-1)])
		}
	}
}

// headerColumns detects a header row: the first record names columns when
// none of its cells is an email address and at least one is a column name.
// It returns the column index of each field (-1 when absent), or nil when
// there is no header, and the data records.
func headerColumns(records [][]string, errs *FieldErrors) ([]int, [][]string) {
	if len(records) == 0 {
		return nil, nil
	}
	first := records[0]
	known := 0
	for _, c := range first {
		if strings.Contains(c, "@") {
			return nil, records
		}
		if _, ok := headerAliases[normaliseHeader(c)]; ok {
			known++
		}
	}
	if known == 0 {
		return nil, records
	}
	cols := make([]int, numColumns)
	for i := range cols {
		cols[i] = -1
	}
	for i, c := range first {
		col, ok := headerAliases[normaliseHeader(c)]
		if !ok {
			continue // other columns of a Control Hub export
		}
		if cols[col] >= 0 {
			errs.Addf("rows", "the header names %s twice (columns %d and %d)", columnNames[col], cols[col]+1, i+1)
			continue
		}
		cols[col] = i
	}
	for _, col := range []int{colFirst, colLast, colEmail} {
		if cols[col] < 0 {
			errs.Addf("rows", "the header has no %s column (found %s)", columnNames[col], strings.Join(first, ","))
		}
	}
	return cols, records[1:]
}

func normaliseHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseRow validates one row's cells; ok is false when it had errors.
func parseRow(line int, rowKey func(field string) string, cell func(int) string, opts RowsOptions, errs *FieldErrors) (request.UserRow, bool) {
	before := len(*errs)
	r := request.UserRow{Line: line, First: cell(colFirst), Last: cell(colLast), Location: cell(colLocation)}
	for _, f := range []struct {
		name, v string
	}{{"first", r.First}, {"last", r.Last}} {
		if f.v == "" {
			errs.Addf(rowKey(f.name), "missing; Webex needs a first and last name")
		} else {
			errs.Append(rowKey(f.name), checkText(rowKey(f.name), f.v, maxPersonName))
		}
	}
	if v := cell(colEmail); v == "" {
		errs.Add(rowKey("email"), "missing")
	} else {
		r.Email, _ = appendErr(errs, rowKey("email"))(ValidateEmail(rowKey("email"), v))
	}

	r.Package = strings.ToLower(cell(colPackage))
	if r.Package == "" && len(opts.Packages) > 0 {
		r.Package = opts.Packages[0]
	}
	if msg := checkPackageOf(r.Package, opts.Packages); msg != "" {
		errs.Add(rowKey("package"), msg)
	} else if opts.AdminEmail != "" && strings.EqualFold(r.Email, opts.AdminEmail) && r.Package != opts.Packages[0] {
		errs.Addf(rowKey("package"), "%s is the customer's admin and must get the primary package %s (the package level the customer was created with), not %s",
			r.Email, opts.Packages[0], r.Package)
	}

	if v := cell(colPhone); v != "" {
		r.Phone, _ = appendErr(errs, rowKey("phone"))(NormalizePhone(rowKey("phone"), v, opts.DefaultCountry))
	}
	if v := cell(colExtension); v != "" {
		if !isDigits(v) || len(v) < 2 || len(v) > 10 {
			errs.Addf(rowKey("extension"), "%q is not an extension (2 to 10 digits)", v)
		}
		r.Extension = v
	}
	hasNumber := cell(colPhone) != "" || r.Extension != ""
	switch {
	case request.CallingSubscriberPackage(r.Package) && !hasNumber:
		errs.Addf(rowKey("phone"), "%s is a calling package: give a phone number (or auto) or an extension", r.Package)
	case request.IsSubscriberPackage(r.Package) && !request.CallingSubscriberPackage(r.Package) && hasNumber:
		// A meetings-only user has no line; a number here would be taken
		// from the location's pool for nothing.
		errs.Addf(rowKey("phone"), "%s is not a calling package: leave phone and extension empty", r.Package)
	}
	if r.Location == "" {
		r.Location = cmp.Or(opts.DefaultLocation, request.DefaultLocationName)
	} else {
		errs.Append(rowKey("location"), checkText(rowKey("location"), r.Location, maxLocationLen))
	}
	return r, len(*errs) == before
}

// NormalizePhone returns v in E.164, or "auto". Numbers without + are read
// in defaultCountry.
func NormalizePhone(key, v, defaultCountry string) (e164 string, err error) {
	s := strings.TrimSpace(v)
	if strings.EqualFold(s, request.PhoneAuto) {
		return request.PhoneAuto, nil
	}
	bad := FieldError{key, fmt.Sprintf("%q is not a valid phone number", v)}
	if !strings.HasPrefix(s, "+") && defaultCountry == "" {
		bad.Message += " (write it in E.164, e.g. +4930555001, or auto)"
		return "", bad
	}
	// The library is a port of libphonenumber; a panic on odd input there
	// must not take the bot down.
	defer func() {
		if recover() != nil {
			e164, err = "", bad
		}
	}()
	num, perr := phonenumbers.Parse(s, strings.ToUpper(defaultCountry))
	if perr != nil || !phonenumbers.IsValidNumber(num) {
		return "", bad
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// checkLimits keeps each package's new users within the ordered quantity
// left (limit minus users already provisioned).
func checkLimits(rows []request.UserRow, opts RowsOptions, packageKey func(row int) string, errs *FieldErrors) {
	count := map[string]int{}
	reported := map[string]bool{}
	for _, r := range rows {
		if r.AlreadyExists {
			continue
		}
		count[r.Package]++
		limit, capped := opts.Limits[r.Package]
		if !capped || reported[r.Package] {
			continue
		}
		left := max(limit-opts.Provisioned[r.Package], 0)
		if count[r.Package] > left {
			reported[r.Package] = true
			total := 0
			for _, o := range rows {
				if o.Package == r.Package && !o.AlreadyExists {
					total++
				}
			}
			errs.Addf(packageKey(r.Line), "only %d %s users are left (limit.%s=%d, %d already provisioned) and the rows add %d",
				left, r.Package, r.Package, limit, opts.Provisioned[r.Package], total)
		}
	}
}

func lowerSet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		if v {
			out[strings.ToLower(strings.TrimSpace(k))] = true
		}
	}
	return out
}
