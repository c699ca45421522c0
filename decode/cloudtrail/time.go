package cloudtrail

import (
	"time"
)

// parseTime parses a CloudTrail timestamp. The common forms
// "2006-01-02T15:04:05Z" and "2006-01-02T15:04:05.000Z" (also with a space
// instead of the T, or without the Z, as some exporters write them; no zone
// means UTC) are parsed by hand; anything else goes through time.Parse with
// RFC 3339. The result is in UTC.
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := parseTimeFast(b); ok {
		return t, true
	}
	s := string(b)
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func digits2(b []byte, i int) int {
	a, c := b[i]-'0', b[i+1]-'0'
	if a > 9 || c > 9 {
		return -1
	}
	return int(a)*10 + int(c)
}

func parseTimeFast(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	y1, y2 := digits2(b, 0), digits2(b, 2)
	mo, d := digits2(b, 5), digits2(b, 8)
	h, mi, s := digits2(b, 11), digits2(b, 14), digits2(b, 17)
	if y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 {
		return time.Time{}, false
	}
	y := y1*100 + y2
	if y == 0 {
		return time.Time{}, false
	}
	if d > 28 && d > daysIn(mo, y) {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if i < len(b) && b[i] == '.' {
		i++
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			n++
			i++
		}
		if n == 0 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	if i < len(b) && b[i] == 'Z' {
		i++
	}
	if i != len(b) {
		return time.Time{}, false
	}
	return time.Unix(daysFromCivil(y, mo, d)*86400+int64(h*3600+mi*60+s), int64(nsec)).UTC(), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
