package powerplatform

import (
	"io"
	"time"

	"github.com/partnerlink/partnerlink/world"
)

// Source is one named activity file (docs/api.md#activity-csv): activity or unified profiles.
type Source struct {
	Name string
	R    io.Reader
}

// Attribute is the whole offline run behind `partnerlink attribute
// --powerplatform`: it indexes the world, streams every source into one
// Activity, computes the credits of the months whose first day lies in
// [from, to) and writes them to w as docs/api.md#attribution-csv CSV. The Summary accounts for
// rows on resources the world does not list.
func Attribute(w io.Writer, doc *world.Document, sources []Source, from, to time.Time) (Summary, error) {
	in, err := FromWorld(doc)
	if err != nil {
		return Summary{}, err
	}
	m, err := NewModel(in)
	if err != nil {
		return Summary{}, err
	}
	a := NewActivity()
	for _, s := range sources {
		if err := a.ReadCSV(s.Name, s.R); err != nil {
			return Summary{}, err
		}
	}
	sum, err := m.Check(a)
	if err != nil {
		return Summary{}, err
	}
	return sum, WriteCSV(w, m.credits(a, from, to))
}
