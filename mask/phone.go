package mask

// countryCode returns the length of the E.164 country calling code that
// begins digits, or 0 when none does. Calling codes are prefix-free, so at
// most one matches. The codes are those ITU-T assigns to countries and
// areas (the ITU's list of E.164 country codes).
func countryCode(digits string) int {
	if len(digits) == 0 {
		return 0
	}
	if digits[0] == '1' || digits[0] == '7' {
		return 1
	}
	if len(digits) < 2 {
		return 0
	}
	switch atoi(digits[:2]) {
	case 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66,
		81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98:
		return 2
	}
	if len(digits) < 3 {
		return 0
	}
	c := atoi(digits[:3])
	switch {
	case c == 211 || c == 212 || c == 213 || c == 216 || c == 218,
		c >= 220 && c <= 269 && c != 259,
		c == 290 || c == 291 || c >= 297 && c <= 299,
		c >= 350 && c <= 359,
		c >= 370 && c <= 389 && c != 384,
		c == 420 || c == 421 || c == 423,
		c >= 500 && c <= 509,
		c >= 590 && c <= 599,
		c == 670 || c >= 672 && c <= 692,
		c == 850 || c == 852 || c == 853 || c == 855 || c == 856 || c == 880 || c == 886,
		c >= 960 && c <= 968,
		c >= 970 && c <= 977,
		c >= 992 && c <= 996 || c == 998:
		return 3
	}
	return 0
}
