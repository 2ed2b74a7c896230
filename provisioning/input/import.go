package input

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// MaxImportCustomers bounds an import: one approval for more customers than
// this is more than anyone reviews.
const MaxImportCustomers = 500

// ImportOptions is what ParseImport checks the rows against.
type ImportOptions struct {
	// Customer gives the options of one customer row (its template= looked
	// up); an error is that row's problem.
	Customer func(args map[string]string) (CustomerOptions, error)
	// Taken says which requests already hold some of the external ids
	// (absent: none), for all the file's good rows at once.
	Taken func(externalIDs []string) (map[string]int64, error)
}

// ImportProblem is a row of an import that cannot be imported.
type ImportProblem struct {
	File   string // "customers" or "users"
	Line   int    // of that file
	Reason string
	// Field is what the problem is about, for counting problems by reason:
	// a key of `new` ("email"), "users: <column>" for a user row,
	// "missing" for keys not given.
	Field string
}

func (p ImportProblem) String() string {
	return fmt.Sprintf("%s line %d: %s", p.File, p.Line, p.Reason)
}

// ParseImport reads an import: a customers CSV whose header names the keys
// of `new` (setup keys included; not rows=), one customer a row, and an
// optional users CSV whose external-id column says whose each user is (the
// other columns as for `users`). Every row is validated as `new` validates
// it, the users as the customer's plan's rows. It returns the customers
// that can be imported and every problem of the others, with its line; a
// problem without a customer (an unreadable file) leaves no customers.
func ParseImport(customersText, usersText string, opts ImportOptions) ([]request.ImportedCustomer, []ImportProblem, error) {
	header, records, lines, err := readCSVFile(customersText)
	if err != nil {
		return nil, nil, fmt.Errorf("customers: %w", err)
	}
	if len(records) == 0 {
		return nil, nil, errors.New("customers: no customer rows under the header")
	}
	if len(records) > MaxImportCustomers {
		return nil, nil, fmt.Errorf("customers: %d rows; an import takes at most %d", len(records), MaxImportCustomers)
	}
	for _, k := range header {
		if k == "rows" {
			return nil, nil, errors.New("customers: a rows column is not taken; give the users in the users file, with an external-id column")
		}
	}
	users, uproblems, err := readImportUsers(usersText)
	if err != nil {
		return nil, nil, fmt.Errorf("users: %w", err)
	}
	problems := uproblems
	var out []request.ImportedCustomer
	seen := map[string]int{}
	for i, rec := range records {
		args := map[string]string{}
		for j, k := range header {
			if j < len(rec) && strings.TrimSpace(rec[j]) != "" {
				args[k] = strings.TrimSpace(rec[j])
			}
		}
		ext := strings.ToUpper(args["external-id"])
		if first, dup := seen[ext]; dup && ext != "" {
			problems = append(problems, ImportProblem{"customers", lines[i], fmt.Sprintf("external-id %s is also on line %d; give each customer once", args["external-id"], first), "external-id"})
			continue
		}
		seen[ext] = lines[i]
		c, why, field := parseImportRow(args, users[ext], opts)
		if why != "" {
			problems = append(problems, ImportProblem{"customers", lines[i], fmt.Sprintf("%s: %s", orDash(args["external-id"]), why), field})
			continue
		}
		out = append(out, request.ImportedCustomer{Line: lines[i], Customer: *c})
	}
	out, problems, err = refuseTaken(out, problems, opts.Taken)
	if err != nil {
		return nil, nil, err
	}
	for ext, us := range users {
		if _, ok := seen[ext]; !ok {
			problems = append(problems, ImportProblem{"users", us.lines[0], fmt.Sprintf("external-id %s is not a customer of the customers file", us.ext), "users: external-id"})
		}
	}
	slices.SortFunc(problems, func(a, b ImportProblem) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		return a.Line - b.Line
	})
	return out, problems, nil
}

// parseImportRow validates one customer row with its users; why says what
// is wrong, field what it is first about.
func parseImportRow(args map[string]string, users *importUsers, opts ImportOptions) (spec *request.CustomerSpec, why, field string) {
	if users != nil {
		args["rows"] = users.text
	}
	copts := CustomerOptions{}
	if opts.Customer != nil {
		var err error
		if copts, err = opts.Customer(args); err != nil {
			return nil, err.Error(), "template"
		}
	}
	spec, missing, errs := ParseCustomer(args, copts)
	if len(errs) > 0 || len(missing) > 0 {
		var whys []string
		for _, e := range errs {
			whys = append(whys, users.renumber(e.Error()))
		}
		if len(missing) > 0 {
			said := make([]string, len(missing))
			for i, k := range missing {
				said[i] = k
				if k == "template" {
					said[i] = "template or provisioning-id"
				}
			}
			whys = append(whys, "missing: "+strings.Join(said, ", "))
		}
		field = "missing"
		if len(errs) > 0 {
			field = problemField(errs[0].Key)
		}
		return nil, strings.Join(whys, "; "), field
	}
	return spec, "", ""
}

// problemField is what an error's key is about: the key of `new`, or
// "users: <column>" for "row 3: email".
func problemField(key string) string {
	if rest, ok := strings.CutPrefix(key, "row "); ok {
		if _, col, ok := strings.Cut(rest, ": "); ok {
			return "users: " + col
		}
		return "users"
	}
	return key
}

// refuseTaken moves the customers whose external id another request holds
// from out to problems; taken is asked once for them all.
func refuseTaken(out []request.ImportedCustomer, problems []ImportProblem, taken func([]string) (map[string]int64, error)) ([]request.ImportedCustomer, []ImportProblem, error) {
	if taken == nil || len(out) == 0 {
		return out, problems, nil
	}
	exts := make([]string, len(out))
	for i, c := range out {
		exts[i] = c.Customer.ExternalID
	}
	held, err := taken(exts)
	if err != nil {
		return nil, nil, fmt.Errorf("could not check the external ids: %w", err)
	}
	kept := out[:0]
	for _, c := range out {
		if holder := held[c.Customer.ExternalID]; holder != 0 {
			problems = append(problems, ImportProblem{"customers", c.Line,
				fmt.Sprintf("%s: external-id %s is already %s's", c.Customer.ExternalID, c.Customer.ExternalID, request.FormatID(holder)), "external-id"})
			continue
		}
		kept = append(kept, c)
	}
	return kept, problems, nil
}

// importUsers are the users file's rows of one customer, as rows= text
// with the file's header, and the file line of each.
type importUsers struct {
	ext   string
	text  string
	lines []int
}

var rowNumberRE = regexp.MustCompile(`^row (\d+)(?: \(line \d+\))?`)

// renumber names a row error by its line in the users file.
func (u *importUsers) renumber(msg string) string {
	if u == nil {
		return msg
	}
	return rowNumberRE.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(rowNumberRE.FindStringSubmatch(m)[1])
		if n < 1 || n > len(u.lines) {
			return m
		}
		return fmt.Sprintf("users line %d", u.lines[n-1])
	})
}

// readImportUsers groups the users file's rows by external id (upper case).
func readImportUsers(text string) (map[string]*importUsers, []ImportProblem, error) {
	out := map[string]*importUsers{}
	if strings.TrimSpace(text) == "" {
		return out, nil, nil
	}
	header, records, lines, err := readCSVFile(text)
	if err != nil {
		return nil, nil, err
	}
	extCol := slices.IndexFunc(header, func(k string) bool { return normaliseHeader(k) == "externalid" })
	if extCol < 0 {
		return nil, nil, errors.New("no external-id column: it says whose each user is")
	}
	rest := slices.Delete(slices.Clone(header), extCol, extCol+1)
	var problems []ImportProblem
	writers := map[string]*strings.Builder{}
	for i, rec := range records {
		ext := ""
		if extCol < len(rec) {
			ext = strings.TrimSpace(rec[extCol])
		}
		if ext == "" {
			problems = append(problems, ImportProblem{"users", lines[i], "no external-id: whose user is it?", "users: external-id"})
			continue
		}
		key := strings.ToUpper(ext)
		u, b := out[key], writers[key]
		if u == nil {
			u, b = &importUsers{ext: ext}, &strings.Builder{}
			out[key], writers[key] = u, b
			w := csv.NewWriter(b)
			_ = w.Write(rest)
			w.Flush()
		}
		cells := rec
		if extCol < len(rec) {
			cells = slices.Delete(slices.Clone(rec), extCol, extCol+1)
		}
		w := csv.NewWriter(b)
		_ = w.Write(cells)
		w.Flush()
		u.lines = append(u.lines, lines[i])
	}
	for k, u := range out {
		u.text = writers[k].String()
	}
	return out, problems, nil
}

// readCSVFile reads an RFC 4180 file with a header row: the header's cells
// lower-cased and trimmed, the data records (blank ones skipped) and the
// line each starts on.
func readCSVFile(text string) (header []string, records [][]string, lines []int, err error) {
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff")))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				return nil, nil, nil, fmt.Errorf("not valid CSV on line %d: %v", perr.StartLine, perr.Err)
			}
			return nil, nil, nil, fmt.Errorf("not valid CSV: %v", err)
		}
		if !slices.ContainsFunc(rec, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue
		}
		if header == nil {
			for _, c := range rec {
				header = append(header, strings.ToLower(strings.TrimSpace(c)))
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		records = append(records, rec)
		lines = append(lines, line)
	}
	if header == nil {
		return nil, nil, nil, errors.New("empty: the first row names the columns")
	}
	return header, records, lines, nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
