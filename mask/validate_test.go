package mask

import (
	"testing"
	"time"
)

func TestValidIDCard(t *testing.T) {
	for s, want := range map[string]bool{
		"11010519491231002X": true, // GB 11643's own sample
		"11010519491231002x": true, // a lower-case x
		"44030419900307123X": true,
		"310115198506152423": true,
		"110101200002290018": true, // a leap day
		"810000199001010019": true, // residence permit, Hong Kong
		"830000198511110027": true, // residence permit, Taiwan
		"110105194912310021": false,
		"440304199003071231": false,
		"110101190002290011": false, // 1900-02-29 is not a day
		"990101199001011234": false, // no province 99
		"110101199003077593": false, // a published "example" whose check is 8
		"1101051949123100X2": false,
		"11010519491231002":  false,
		"110105204912310026": false, // born in 2049
	} {
		if got := ValidIDCard(s); got != want {
			t.Errorf("ValidIDCard(%s) = %v, want %v", s, got, want)
		}
	}
	// Every body's computed check character validates, and no other.
	body := "11010519900307123"
	good := body + string(IDCheck(body))
	if !ValidIDCard(good) {
		t.Fatalf("%s with its own check character is refused", good)
	}
	for _, c := range "0123456789X" {
		if s := body + string(c); s != good && ValidIDCard(s) {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestValidLegacyID(t *testing.T) {
	if !validLegacyID("110105491231002") || validLegacyID("110105491331002") || validLegacyID("990105491231002") {
		t.Fatal("15-digit IDs: shape, month, province")
	}
}

func TestValidUSCC(t *testing.T) {
	for s, want := range map[string]bool{
		"91350100M000100Y43": true, // GB 32100's worked example
		"91440300MA5D00008T": true,
		"91350100M000100Y4Z": false, // Z is not in the alphabet
		"91350100M000100Y44": false,
		"91110000MA001AA123": false, // a published "example" whose check is H
		"9144030OMA5D000082": false, // the letter O
		"01350100M000100Y43": false, // no registration authority 0
	} {
		if got := ValidUSCC(s); got != want {
			t.Errorf("ValidUSCC(%s) = %v, want %v", s, got, want)
		}
	}
	if c := USCCCheck("91110000MA001AA12"); c != 'H' {
		t.Errorf("USCCCheck = %c, want H", c)
	}
}

func TestLuhnAndSchemes(t *testing.T) {
	for s, want := range map[string]string{
		"6222021001123456789": "unionpay",
		"6217000000000000004": "unionpay",
		"4111111111111111":    "visa",
		"5555555555554444":    "mastercard",
		"2223003122003222":    "mastercard",
		"378282246310005":     "amex",
		"6011111111111117":    "discover",
		"3530111333300000":    "jcb",
		"30569309025904":      "diners",
	} {
		if !Luhn(s) || cardScheme(s) != want {
			t.Errorf("%s: Luhn %v, scheme %q; want %q", s, Luhn(s), cardScheme(s), want)
		}
	}
	for _, s := range []string{"6222021001123456780", "4111111111111112", "1234567890123"} {
		if Luhn(s) {
			t.Errorf("Luhn(%s) holds", s)
		}
	}
}

func TestValidMobile(t *testing.T) {
	for s, want := range map[string]bool{
		"13812345678": true, "17212345678": true, "19212345678": true, "16612345678": true, "14512345678": true,
		"19412345678": false, "15412345678": false, "12345678901": false, "1381234567": false, "14212345678": false,
	} {
		if got := validMobile(s); got != want {
			t.Errorf("validMobile(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestValidIBAN(t *testing.T) {
	for s, want := range map[string]bool{
		"DE89370400440532013000":      true,
		"GB29NWBK60161331926819":      true,
		"FR1420041010050500013M02606": true,
		"NO9386011117947":             true,
		"DE89370400440532013001":      false,
		"DE8937040044053201300":       false, // one short
		"ZZ89370400440532013000":      false, // no such country
	} {
		if got := ValidIBAN(s); got != want {
			t.Errorf("ValidIBAN(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestPassportsPermitsPlates(t *testing.T) {
	for s, want := range map[string]bool{"E12345678": true, "EA1234567": true, "G12345678": true, "DE1234567": true, "EI1234567": false, "E1234567": false, "K12345678": true, "MA1234567": true} {
		if got := passportSeries(s) != ""; got != want {
			t.Errorf("passport %s: %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"H12345678": true, "M1234567801": true, "C12345678": true, "CA1234567": true, "L12345678": true, "H1234567": false} {
		if got := permitKind(s) != ""; got != want {
			t.Errorf("permit %s: %v, want %v", s, got, want)
		}
	}
	for serial, want := range map[string]bool{"A12345": true, "AD12345": true, "B12345D": true, "AI2345": false, "AO2345": false, "BD1234F": false, "A1234": false} {
		if got := validPlate(serial, false); got != want {
			t.Errorf("plate %s: %v, want %v", serial, got, want)
		}
	}
	if !validPlate("Z1234", true) {
		t.Error("粤Z1234港 refused")
	}
}

func TestCountryCode(t *testing.T) {
	for digits, want := range map[string]int{"8613812345678": 2, "14155552671": 1, "442071838750": 2, "85221234567": 3, "2591234": 0, "8001234": 0} {
		if got := countryCode(digits); got != want {
			t.Errorf("countryCode(%s) = %d, want %d", digits, got, want)
		}
	}
}

func init() {
	// Birth dates are checked against a fixed day in tests.
	now = func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }
}
