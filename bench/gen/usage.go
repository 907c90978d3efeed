package gen

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

const usageHeader = "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost,ConsumedQuantity\n"

func serviceName(id string) string {
	switch {
	case id == "":
		return "Support"
	case strings.Contains(id, "virtualMachines"):
		return "Virtual Machines"
	case strings.Contains(id, "Microsoft.Sql"):
		return "SQL Database"
	case strings.Contains(id, "storageAccounts"):
		return "Storage"
	case strings.Contains(id, "Microsoft.Web"):
		return "Azure App Service"
	}
	return "Virtual Network"
}

// usage writes exactly p.Rows rows, day by day, resource by resource.
func (g *generator) usage(path string) (int64, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	bw := bufio.NewWriterSize(f, 4<<20)
	bw.WriteString(usageHeader)
	r := g.r
	days := g.days()
	perDay := int64(0)
	for _, res := range g.resources {
		perDay += int64(res.meters)
	}
	scale := int64(1)
	if perDay*int64(days) < g.p.Rows {
		scale = (g.p.Rows + perDay*int64(days) - 1) / (perDay * int64(days))
	}
	unknown := make([]string, 50)
	for i := range unknown {
		unknown[i] = g.guid()
	}
	services := make([]string, len(g.resources))
	for i, res := range g.resources {
		services[i] = serviceName(res.id)
	}
	stamp := func(t time.Time) string { return t.Format("2006-01-02T15:04:05Z") }
	var line []byte
	var n int64
	size := int64(len(usageHeader))
	for day := 0; n < g.p.Rows; day = (day + 1) % days {
		start, end := stamp(g.p.Month.AddDate(0, 0, day)), stamp(g.p.Month.AddDate(0, 0, day+1))
		prevStart, prevEnd := stamp(g.p.Month.AddDate(0, 0, -1)), stamp(g.p.Month)
		for ri := range g.resources {
			res := &g.resources[ri]
			sb := &g.subs[res.sub]
			for m := int64(0); m < int64(res.meters)*scale && n < g.p.Rows; m++ {
				n++
				x := r.IntN(10000)
				s, e := start, end
				switch {
				case x < 10: // 0.1%: the previous month
					s, e = prevStart, prevEnd
				case x < 20: // 0.1%: two hours inside the day, not the whole day
					at := g.p.Month.AddDate(0, 0, day).Add(time.Duration(x-9) * time.Hour)
					s, e = stamp(at), stamp(at.Add(2*time.Hour))
				}
				category := "Usage"
				switch {
				case x >= 9700 && x < 9800:
					category = "Purchase"
				case x >= 9800 && x < 9850:
					category = "Tax"
				case x >= 9850 && x < 9900:
					category = "Credit"
				case x >= 9900 && x < 9950:
					category = "usage" // compared case-insensitively
				}
				subID, id := sb.id, res.id
				if x >= 20 && x < 120 { // 1%: a subscription the world does not know
					u := unknown[r.IntN(len(unknown))]
					subID = u
					if id != "" {
						id = "/subscriptions/" + u + id[51:]
					}
				}
				y := r.IntN(1000)
				switch {
				case id == "":
				case y < 30:
					id = upperSome(id)
				case y < 50:
					id = strings.ToLower(id)
				case y < 55:
					id += "/"
				}
				var subText string
				switch z := r.IntN(10); {
				case z < 7:
					subText = "/subscriptions/" + subID
				case z < 9:
					subText = subID
				default:
					subText = strings.ToUpper(subID)
				}
				currency := sb.currency
				if y >= 990 {
					currency = "USD"
				}
				micro := res.cost/2 + r.Int64N(res.cost+1)
				if category == "Credit" {
					micro = -micro
				}
				line = line[:0]
				line = append(line, s...)
				line = append(line, ',')
				line = append(line, e...)
				line = append(line, ',')
				line = append(line, category...)
				line = append(line, ',')
				line = append(line, id...)
				line = append(line, ',')
				line = append(line, subText...)
				line = append(line, ',', '"')
				line = append(line, services[ri]...)
				line = append(line, '"', ',')
				line = append(line, currency...)
				line = append(line, ',')
				line = appendMicro(line, micro)
				line = append(line, ',')
				line = appendMicro(line, micro+int64(y))
				line = append(line, ',')
				line = strconv.AppendInt(line, int64(1+y%24), 10)
				line = append(line, '\n')
				bw.Write(line)
				size += int64(len(line))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return n, size, err
	}
	return n, size, f.Close()
}

// appendMicro writes v millionths as a decimal with up to six places,
// trailing zeros kept as some exports do ("12.340000").
func appendMicro(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/1_000_000, 10)
	frac := v % 1_000_000
	if frac == 0 {
		return b
	}
	b = append(b, '.')
	s := strconv.FormatInt(frac+1_000_000, 10)[1:]
	return append(b, s...)
}
