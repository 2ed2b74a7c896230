package sandbox

import (
	"fmt"
	"strings"
)

// isoCountries are the ISO 3166-1 alpha-2 codes Webex accepts as address countries.
var isoCountries = func() map[string]bool {
	const codes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
		"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
		"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()

// numberRange is where a country's seeded numbers come from: prefix + a width-digit
// counter starting at first. Every range is valid for nyaruka/phonenumbers (tested for the
// first maxBlocks blocks); the ranges sit in fictional or test-reserved blocks where one
// exists (GB 020 7946 0xxx, FR 01 99 00 xx xx, US/CA 555-01xx).
type numberRange struct {
	prefix string
	first  int
	width  int
}

// NumbersPerLocation is how many provider numbers a location with an INTEGRATED_CCP
// connection (--pstn-integrated) gets.
const NumbersPerLocation = 100

// maxBlocks caps the calling locations per country that get seeded numbers; the ranges are
// tested valid up to here.
const maxBlocks = 50

// numberRanges is the seeding rule of provider numbers (docs/commands.md cites it): the k-th location
// in a country (k = 0, 1, …) whose PSTN connection an integrated CCP provider set
// (--pstn-integrated) gets the 100 numbers prefix + (first + 100k … first + 100k + 99),
// zero-padded to width digits, e.g. DE +49 30 55500000 … +49 30 55500099 for the first.
// Other calling locations start without numbers, like Webex's: set up a LOCAL_GATEWAY or
// NON_INTEGRATED_CCP connection, then add them with
// POST /telephony/config/locations/{id}/numbers. Locations in countries without a range,
// and beyond maxBlocks, get none.
var numberRanges = map[string]numberRange{
	"AT": {"+431", 5550000, 7},
	"AU": {"+612", 55500000, 8},
	"BE": {"+322", 5550000, 7},
	"CA": {"+1416", 5550100, 7},
	"CH": {"+4144", 5550000, 7},
	"DE": {"+4930", 55500000, 8},
	"DK": {"+45", 32550000, 8},
	"ES": {"+3491", 5550000, 7},
	"FI": {"+3589", 5550000, 7},
	"FR": {"+33199", 0, 6},
	"GB": {"+44207946", 0, 4},
	"IE": {"+3531", 5550000, 7},
	"IT": {"+3906", 55500000, 8},
	"LU": {"+352", 25550000, 8},
	"NL": {"+3120", 5550000, 7},
	"NO": {"+47", 21550000, 8},
	"PL": {"+4822", 5550000, 7},
	"PT": {"+351", 215550000, 9},
	"SE": {"+468", 55500000, 8},
	"US": {"+1212", 5550100, 7},
}

// seedNumbers returns the numbers of the block-th calling location in country.
func seedNumbers(country string, block int) []string {
	nr, ok := numberRanges[country]
	if !ok || block < 0 || block >= maxBlocks {
		return nil
	}
	out := make([]string, 0, NumbersPerLocation)
	for i := 0; i < NumbersPerLocation; i++ {
		out = append(out, fmt.Sprintf("%s%0*d", nr.prefix, nr.width, nr.first+block*NumbersPerLocation+i))
	}
	return out
}

// callingCode returns the country calling code prefix (with "+") of a seeded country.
func callingCode(country string) string {
	codes := map[string]string{
		"AT": "+43", "AU": "+61", "BE": "+32", "CA": "+1", "CH": "+41", "DE": "+49", "DK": "+45",
		"ES": "+34", "FI": "+358", "FR": "+33", "GB": "+44", "IE": "+353", "IT": "+39", "LU": "+352",
		"NL": "+31", "NO": "+47", "PL": "+48", "PT": "+351", "SE": "+46", "US": "+1",
	}
	return codes[country]
}
