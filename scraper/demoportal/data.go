package demoportal

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Order is a work order as the demo portal holds it. Every field is shown on the list page
// except Instructions, which only the order's detail page shows.
type Order struct {
	ID           string   `json:"id"`     // the portal id, e.g. "730012"
	Number       string   `json:"number"` // e.g. "W-123456"
	Customer     string   `json:"customer"`
	StoreNumber  string   `json:"store_number"` // digits only; the page shows "Store #0412"
	SiteName     string   `json:"site_name"`
	Street       string   `json:"street"`
	City         string   `json:"city"`
	State        string   `json:"state"`
	Zip          string   `json:"zip"`
	ServiceCode  string   `json:"service_code"`
	ServiceName  string   `json:"service_name"`
	Items        []string `json:"items"`
	VisitDate    string   `json:"visit_date"` // YYYY-MM-DD; the page shows MM/DD/YYYY
	Instructions string   `json:"-"`
	// Extra holds the fields only the field-mode pages show (see fieldmodes.go).
	Extra Extra `json:"-"`
}

// clone returns a deep copy of o.
func (o Order) clone() Order {
	o.Items = append([]string(nil), o.Items...)
	o.Extra.Tags = append([]string(nil), o.Extra.Tags...)
	return o
}

// MaxOrders is the largest data set New generates.
const MaxOrders = 5000

var customers = []string{
	"Northwind Markets", "Contoso Pharmacy", "Ace & Sons Hardware", "Café Luna",
	"Fabrikam Fitness", "Tailspin Toys", "Wide World Importers", "Adventure Works Outdoors",
	"Blue Yonder Grocers", "Litware Electronics", "Proseware Pet Supply", "Woodgrove Bank",
}

var siteSuffixes = []string{"Plaza", "Center", "Crossing", "Commons", "Mall", "Station", "Square"}

var streets = []string{
	"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Washington Blvd", "Lakeview Rd",
	"Park Pl", "Elm St", "Highland Ave", "Market St", "Sunset Blvd", "River Rd",
}

type city struct{ name, state, zip string }

var cities = []city{
	{"Springfield", "IL", "62701"}, {"Columbus", "OH", "43215"}, {"Austin", "TX", "78701"},
	{"Denver", "CO", "80202"}, {"Portland", "OR", "97204"}, {"Raleigh", "NC", "27601"},
	{"Madison", "WI", "53703"}, {"Boise", "ID", "83702"}, {"Tucson", "AZ", "85701"},
	{"Albany", "NY", "12207"}, {"Savannah", "GA", "31401"}, {"Omaha", "NE", "68102"},
	{"Des Moines", "IA", "50309"}, {"Burlington", "VT", "05401"}, {"Santa Fe", "NM", "87501"},
	{"St. Paul", "MN", "55102"}, {"Coeur d'Alene", "ID", "83814"}, {"Winston-Salem", "NC", "27101"},
}

type service struct{ code, name string }

var services = []service{
	{"HV-210", "HVAC preventive maintenance"}, {"HV-330", "Rooftop unit repair"},
	{"EL-120", "Lighting repair"}, {"EL-145", "Emergency lighting test"},
	{"RF-300", "Refrigeration check"}, {"PL-110", "Plumbing leak"},
	{"DR-401", "Door & lock repair"}, {"FS-510", "Fire extinguisher inspection"},
}

var items = []string{
	"Air filter 20x25x1", "LED tube T8 4ft", "Condenser fan motor", "Door closer",
	"Exit sign battery", "P-trap 1-1/2\"", "Thermostat (programmable)", "Refrigerant R-404A, 10 lb",
	"Ballast 2-lamp", "Lock cylinder", "Gasket, walk-in cooler", "Fire extinguisher tag",
}

var sentences = []string{
	"Check in with the store manager on arrival.",
	"Call Zoë at the service desk 30 min before arrival.",
	"Gate code: 4821#.",
	"Bring a 6' ladder; the ceiling is > 12 ft.",
	"Work only after 9 pm — the store is open until then.",
	"Photos of the nameplate & the finished work are required.",
	"Park behind the building <loading dock B>.",
	"Do not shut off power to the freezers.",
	"Badge required: ask security for a \"visitor\" pass.",
	"Leave the old parts in the back room.",
}

// visitStart returns start as a UTC date, or when it is zero the Monday of now's week (UTC).
func visitStart(start, now time.Time) time.Time {
	if start.IsZero() {
		now = now.UTC()
		start = now.AddDate(0, 0, -((int(now.Weekday()) + 6) % 7)) // back to Monday
	}
	y, m, d := start.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// generate returns order number i of the data set of seed, its visit within 60 days from start.
// It depends on seed, start and i only, so orders added later continue the same sequence.
func generate(seed uint64, start time.Time, i int) Order {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	c := cities[r.IntN(len(cities))]
	s := services[r.IntN(len(services))]
	cust := pick(customers)
	n := 1 + r.IntN(4)
	its := make([]string, 0, n)
	for range n {
		its = append(its, fmt.Sprintf("%d × %s", 1+r.IntN(6), pick(items)))
	}
	k := 1 + r.IntN(3)
	instr := make([]string, 0, k)
	for range k {
		instr = append(instr, pick(sentences))
	}
	return Order{
		ID: strconv.Itoa(730000 + i),
		// 7919 is prime and does not divide 900000, so numbers are unique for i < 900000.
		Number:       fmt.Sprintf("W-%06d", 100000+(i*7919+int(seed%900000))%900000),
		Customer:     cust,
		StoreNumber:  fmt.Sprintf("%04d", 1+r.IntN(9998)),
		SiteName:     c.name + " " + pick(siteSuffixes),
		Street:       fmt.Sprintf("%d %s", 10+r.IntN(9980), pick(streets)),
		City:         c.name,
		State:        c.state,
		Zip:          c.zip,
		ServiceCode:  s.code,
		ServiceName:  s.name,
		Items:        its,
		VisitDate:    start.AddDate(0, 0, r.IntN(60)).Format(time.DateOnly),
		Instructions: strings.Join(instr, "\n"),
		Extra:        generateExtra(seed, start, i),
	}
}

// displayDate formats a YYYY-MM-DD date as the portal shows it (MM/DD/YYYY).
func displayDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("01/02/2006")
}
