package handlers

import (
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/slack-go/slack"
)

// Every kind's rules read that kind's spec: a row wired to another spec
// type decodes nothing and shows no fields, fills no form.
func TestKindRulesReadTheirSpec(t *testing.T) {
	t.Parallel()
	h := builderHandler(false)
	specs := sampleSpecs(false, 2)
	specs[request.KindPSTN] = request.PSTNSpec{Customer: request.CustomerRef{RequestID: 1, ExternalID: "MS-001"}, Location: "HQ", Connection: "Local Gateway", RouteType: "TRUNK", RouteID: "trunk-1"}
	tmpl := specs[request.KindTemplate].(request.TemplateSpec)
	tmpl.ProvisioningID = "PROV-DE-1" // without one a template has nothing to check
	specs[request.KindTemplate] = tmpl
	cust := specs[request.KindCustomer].(request.CustomerSpec)
	specs[request.KindImport] = request.ImportSpec{Customers: []request.ImportedCustomer{{Line: 2, Customer: cust}}}
	for kind, rules := range kinds {
		spec, ok := specs[kind]
		if !ok {
			if rules.fields != nil || rules.check != nil || rules.answers != nil {
				t.Errorf("%s: no sample spec to try its rules on", kind)
			}
			continue
		}
		r := sampleRequest(1, kind, request.StateDone, spec)
		if rules.fields != nil && fieldCount(rules.fields(r)) == 0 {
			t.Errorf("%s: the summary shows no fields", kind)
		}
		if rules.check != nil && rules.check(h, r) == nil {
			t.Errorf("%s: no precheck rebuilt from its spec", kind)
		}
		if rules.answers != nil {
			a, err := answersFromRequest(r)
			if err != nil || len(a) < 2 {
				t.Errorf("%s: form answers %v (%v)", kind, a, err)
			}
		}
	}
	for _, kind := range []request.Kind{request.KindCustomer, request.KindTemplate, request.KindUsers, request.KindLocation,
		request.KindNumbers, request.KindPSTN, request.KindChange, request.KindRemove, request.KindDelete, request.KindAdopt, request.KindImport} {
		if _, ok := kinds[kind]; !ok {
			t.Errorf("%s: no row in kinds", kind)
		}
	}
}

// fieldCount counts the field sections (chat.Fields) among blocks.
func fieldCount(blocks []slack.Block) int {
	n := 0
	for _, b := range blocks {
		if s, ok := b.(*slack.SectionBlock); ok {
			n += len(s.Fields)
		}
	}
	return n
}
