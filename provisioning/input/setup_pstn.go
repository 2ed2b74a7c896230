package input

import (
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// PSTNKeys is every key `pstn CUSTOMER` accepts.
var PSTNKeys = []string{"location", "connection", "route-type", "route"}

// ParsePSTN validates the keys of `pstn CUSTOMER connection="…" [location=…]
// [route-type=TRUNK|ROUTE_GROUP route=ID]`. Whether the connection is one
// Webex offers at the location is the precheck's to say.
func ParsePSTN(args map[string]string, ref request.CustomerRef) (*request.PSTNSpec, []string, FieldErrors) {
	var errs FieldErrors
	checkUnknownKeys(args, PSTNKeys, &errs)
	in := &keyArgs{args: args}
	p := &request.PSTNSpec{Customer: ref, Location: request.DefaultLocationName}
	if v, ok := in.get("location"); ok {
		errs.Append("location", checkText("location", v, maxLocationName))
		p.Location = v
	}
	if v, ok := in.need("connection"); ok {
		errs.Append("connection", checkText("connection", v, 255))
		p.Connection = v
	}
	if v, ok := in.get("route-type"); ok {
		p.RouteType = strings.ToUpper(v)
		if p.RouteType != webex.PremiseRouteTrunk && p.RouteType != webex.PremiseRouteRouteGroup {
			errs.Addf("route-type", "%q is not a route type (expected TRUNK or ROUTE_GROUP)", v)
		}
	}
	if v, ok := in.get("route"); ok {
		errs.Append("route", checkText("route", v, 255))
		p.RouteID = v
	}
	switch {
	case p.Connection == "":
	case request.Premises(p.Connection) && p.RouteType == "" && !errs.Has("route-type"):
		errs.Addf("route-type", "missing: %q needs route-type=TRUNK or ROUTE_GROUP and route=ID (the trunk or route group its calls leave by)", p.Connection)
	case request.Premises(p.Connection) && p.RouteID == "" && !errs.Has("route"):
		errs.Addf("route", "missing: %q needs route=ID (the trunk or route group its calls leave by)", p.Connection)
	case !request.Premises(p.Connection) && (p.RouteType != "" || p.RouteID != ""):
		errs.Addf("route", "only %q takes route-type= and route=; %q connects through its provider", request.PremisesOption, p.Connection)
	}
	if len(errs) > 0 || len(in.missing) > 0 {
		return nil, in.missing, errs
	}
	return p, nil, nil
}
