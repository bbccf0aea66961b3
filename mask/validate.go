package mask

import (
	"strings"
	"time"
)

// now is the clock birth dates are checked against (a variable for tests).
var now = time.Now

// isDigits reports whether s is all ASCII digits (and not empty).
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// idRegion reports whether the first two digits of an ID number are a
// province-level address code (GB/T 2260): 11–15, 21–23, 31–37, 41–46,
// 50–54, 61–65, 71 (Taiwan) and 81–83 (the residence permits of Hong Kong,
// Macau and Taiwan residents). Retired six-digit codes stay valid in old
// numbers, so the rest of the code is not checked.
func idRegion(s string) bool {
	p := int(s[0]-'0')*10 + int(s[1]-'0')
	switch {
	case p >= 11 && p <= 15, p >= 21 && p <= 23, p >= 31 && p <= 37, p >= 41 && p <= 46,
		p >= 50 && p <= 54, p >= 61 && p <= 65, p == 71, p >= 81 && p <= 83:
		return true
	}
	return false
}

// validDate reports whether year, month and day make a real calendar day
// from 1880 up to today.
func validDate(year, month, day int) bool {
	if year < 1880 || month < 1 || month > 12 || day < 1 {
		return false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Year() != year || int(t.Month()) != month || t.Day() != day {
		return false
	}
	return !t.After(now())
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// idWeights are GB 11643's weights, 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDCheck computes the check character of the first 17 digits of an
// 18-character ID number (ISO 7064 MOD 11-2, GB 11643), or 0 if body does
// not begin with 17 digits.
func IDCheck(body string) byte {
	if len(body) < 17 || !isDigits(body[:17]) {
		return 0
	}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// ValidIDCard reports whether s is a valid 18-character resident ID number
// (or a residence permit number in its format): 17 digits and a check
// character (X in either case), a province code and a real birth date.
func ValidIDCard(s string) bool {
	if len(s) != 18 || !isDigits(s[:17]) {
		return false
	}
	c := s[17]
	if c == 'x' {
		c = 'X'
	}
	if c != 'X' && (c < '0' || c > '9') {
		return false
	}
	return idRegion(s) && validDate(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])) && IDCheck(s) == c
}

// validLegacyID reports whether s has the shape of a 15-digit ID number
// issued before 1999 (no check digit; a 19YY birth date).
func validLegacyID(s string) bool {
	return len(s) == 15 && isDigits(s) && idRegion(s) && validDate(1900+atoi(s[6:8]), atoi(s[8:10]), atoi(s[10:12]))
}

// idDetail names what an ID number's address code says it is.
func idDetail(s string) string {
	switch s[:2] {
	case "81":
		return "residence permit (Hong Kong resident)"
	case "82":
		return "residence permit (Macau resident)"
	case "83":
		return "residence permit (Taiwan resident)"
	}
	return ""
}

// validMobile reports whether s is an 11-digit mainland mobile number in
// an allocated segment: 130–139, 145–149, 150–153, 155–159, 162, 165–167,
// 170–178, 180–189, 190–193, 195–199.
func validMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || !isDigits(s) {
		return false
	}
	d := s[2]
	switch s[1] {
	case '3', '8':
		return true
	case '4':
		return d >= '5'
	case '5':
		return d != '4'
	case '6':
		return d == '2' || d == '5' || d == '6' || d == '7'
	case '7':
		return d != '9'
	case '9':
		return d != '4'
	}
	return false
}

// usccAlphabet is GB 32100's 31 characters (no I, O, S, V, Z), in value
// order.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccValues maps a byte to its value in usccAlphabet, or -1.
var usccValues = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(usccAlphabet) {
		t[usccAlphabet[i]] = int8(i)
	}
	return t
}()

// usccWeights are GB 32100's weights, 3^(i-1) mod 31.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheck computes the check character of the first 17 characters of a
// unified social credit code (GB 32100), or 0 if there are fewer or one is
// not in its alphabet.
func USCCCheck(body string) byte {
	if len(body) < 17 {
		return 0
	}
	sum := 0
	for i := range 17 {
		v := usccValues[body[i]]
		if v < 0 {
			return 0
		}
		sum += int(v) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// ValidUSCC reports whether s is a valid unified social credit code: 18
// characters of GB 32100's alphabet, a registration-authority code, a
// six-digit administrative-division code and the check character.
func ValidUSCC(s string) bool {
	if len(s) != 18 || !strings.ContainsRune("123456789ANY", rune(s[0])) || !isDigits(s[2:8]) {
		return false
	}
	return USCCCheck(s) == s[17]
}

// Luhn reports whether the digits of s pass the Luhn check.
func Luhn(s string) bool {
	if !isDigits(s) {
		return false
	}
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cardScheme names the payment card scheme whose issuer prefixes and
// lengths fit the digits of s, or "" (ISO/IEC 7812 issuer ranges as the
// schemes publish them).
func cardScheme(s string) string {
	n := len(s)
	p2 := atoi(s[:2])
	p3 := atoi(s[:3])
	p4 := atoi(s[:4])
	switch {
	case p2 == 62 && n >= 16 && n <= 19:
		return "unionpay"
	case s[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "mastercard"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "amex"
	case (p4 == 6011 || p3 >= 644 && p3 <= 649 || p2 == 65) && n >= 16 && n <= 19:
		return "discover"
	case p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19:
		return "jcb"
	case (p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14 && n <= 19:
		return "diners"
	}
	return ""
}

// ibanLengths are the IBAN lengths of the countries in the ISO 13616
// registry (SWIFT's IBAN Registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
	"JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
	"MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
	"NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ValidIBAN reports whether s (no spaces, upper case) is an IBAN: a
// registered country with its length, and the ISO 7064 mod 97-10 check.
func ValidIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 || ibanLengths[s[:2]] != len(s) || !isDigits(s[2:4]) {
		return false
	}
	rem := 0
	for i := range len(s) {
		c := s[(i+4)%len(s)]
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// passportSeries names the series of a passport number, or "". PRC
// ordinary passports: E + 8 digits (to 2017), E + a letter other than I
// and O + 7 digits (since), G + 8 digits, 14/15 + 7 digits (older);
// public-affairs, service and diplomatic: P, S, D (+ E) + 7 or 8 digits;
// HKSAR: K + 8 digits; MSAR: MA + 7 digits.
func passportSeries(s string) string {
	switch {
	case len(s) == 9 && s[0] == 'E' && isDigits(s[1:]):
		return "PRC ordinary"
	case len(s) == 9 && s[0] == 'E' && s[1] >= 'A' && s[1] <= 'Z' && s[1] != 'I' && s[1] != 'O' && isDigits(s[2:]):
		return "PRC ordinary (e-passport)"
	case len(s) == 9 && s[0] == 'G' && isDigits(s[1:]):
		return "PRC ordinary (G)"
	case len(s) == 9 && (strings.HasPrefix(s, "14") || strings.HasPrefix(s, "15")) && isDigits(s):
		return "PRC ordinary (old)"
	case len(s) == 9 && (strings.HasPrefix(s, "DE") || strings.HasPrefix(s, "SE") || strings.HasPrefix(s, "PE")) && isDigits(s[2:]):
		return "PRC diplomatic, service or public affairs"
	case (len(s) == 8 || len(s) == 9) && (s[0] == 'D' || s[0] == 'S' || s[0] == 'P') && isDigits(s[1:]):
		return "PRC diplomatic, service or public affairs"
	case len(s) == 9 && s[0] == 'K' && isDigits(s[1:]):
		return "HKSAR"
	case len(s) == 9 && strings.HasPrefix(s, "MA") && isDigits(s[2:]):
		return "MSAR"
	}
	return ""
}

// permitKind names the kind of a Mainland travel permit number, or "":
// H or M + 8 digits (+ 2 for the issue count) for Hong Kong and Macau
// residents; C + 8 digits or C + a letter + 7 digits for mainland
// residents to Hong Kong and Macau; L + 8 digits to Taiwan.
func permitKind(s string) string {
	switch {
	case (len(s) == 9 || len(s) == 11) && (s[0] == 'H' || s[0] == 'M') && isDigits(s[1:]):
		return "Home Return Permit (回乡证)"
	case len(s) == 9 && s[0] == 'C' && (isDigits(s[1:]) || s[1] >= 'A' && s[1] <= 'Z' && isDigits(s[2:])):
		return "permit to Hong Kong and Macau"
	case len(s) == 9 && s[0] == 'L' && isDigits(s[1:]):
		return "permit to Taiwan"
	}
	return ""
}

// plateProvinces are the province abbreviations that begin a plate.
const plateProvinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

// plateLetter reports whether c is a letter plates use (not I or O).
func plateLetter(c byte) bool { return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' }

func plateChar(c byte) bool { return plateLetter(c) || c >= '0' && c <= '9' }

// validPlate reports whether serial (what follows the province
// abbreviation, ASCII) is a plate's: the authority letter and five
// characters, or a new-energy plate's six (D or F, a letter or digit and
// four digits; or five digits and D or F). suffix is a last character in
// Chinese (挂 学 警 港 澳) when the plate has one, after four characters.
func validPlate(serial string, suffix bool) bool {
	if len(serial) < 5 || !plateLetter(serial[0]) {
		return false
	}
	for i := 1; i < len(serial); i++ {
		if !plateChar(serial[i]) {
			return false
		}
	}
	s := serial[1:]
	switch {
	case suffix:
		return len(s) == 4
	case len(s) == 5:
		return true
	case len(s) == 6:
		return (s[0] == 'D' || s[0] == 'F') && isDigits(s[2:]) || isDigits(s[:5]) && (s[5] == 'D' || s[5] == 'F')
	}
	return false
}
