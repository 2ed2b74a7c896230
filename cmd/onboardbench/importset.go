package main

import (
	"fmt"
	"strings"
)

// importSet is what an import run of scenario (g) submits: the customers
// file and the users file, inline as the command's quoted values, and what
// must exist at the sandbox afterwards.
type importSet struct {
	exts      []string            // the customers' external ids, in file order
	users     map[string][]string // external id → its users' emails
	customers string              // the customers CSV
	usersCSV  string              // the users CSV
}

// numbersBase is the first number of the first customer's block: Berlin
// numbers +49 30 556xxxxx, valid for phonenumbers and clear of the ranges
// the sandbox gives integrated PSTN locations (+49 30 555xxxxx).
const numbersBase = 55600000

// numbersPerBlock bounds one customer's block: customer k takes
// +4930 (numbersBase + 100k) onwards, so blocks of up to 100 never meet.
const numbersPerBlock = 100

// newImportSet builds an import of n customers with perCustomer users
// each, external ids BENCH-<tag>-001…: every customer with the Sandbox CCP
// PSTN option and a block of perCustomer+10 numbers of its own, every user
// a calling user with phone=auto (a number of that block).
func newImportSet(tag string, n, perCustomer int) importSet {
	s := importSet{users: map[string][]string{}}
	var cb, ub strings.Builder
	cb.WriteString("name,email,external-id,country,package,provisioning-id,supported-location,address,city,zip,timezone,language,pstn,numbers\n")
	ub.WriteString("external-id,first,last,email,package,phone,extension\n")
	block := min(perCustomer+10, numbersPerBlock)
	for k := range n {
		ext := fmt.Sprintf("BENCH-%s-%03d", tag, k+1)
		domain := strings.ToLower(fmt.Sprintf("%s-%03d.bench.example", tag, k+1))
		first := numbersBase + numbersPerBlock*k
		fmt.Fprintf(&cb, "Bench %s GmbH,it@%s,%s,DE,webex_calling,PROV-DE-1,yes,Hauptstraße %d,Berlin,10115,Europe/Berlin,de_DE,Sandbox CCP,+4930%08d-+4930%08d\n",
			ext, domain, ext, k+1, first, first+block-1)
		s.exts = append(s.exts, ext)
		for u := range perCustomer {
			email := fmt.Sprintf("user%03d@%s", u+1, domain)
			fmt.Fprintf(&ub, "%s,Ann,User%03d,%s,webex_calling,auto,\n", ext, u+1, email)
			s.users[ext] = append(s.users[ext], email)
		}
	}
	s.customers, s.usersCSV = cb.String(), ub.String()
	return s
}

// command is the slash command's text: both files inline, quoted (the
// grammar keeps the newlines of a quoted value).
func (s importSet) command() string {
	return `import rows="` + s.customers + `" users="` + s.usersCSV + `"`
}

// userCount is how many users the import brings.
func (s importSet) userCount() int {
	n := 0
	for _, u := range s.users {
		n += len(u)
	}
	return n
}
