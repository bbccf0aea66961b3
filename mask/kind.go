package mask

// Kind is a kind of personal information.
type Kind string

// The kinds the package detects.
const (
	// IDCard is a PRC resident identity card number (公民身份号码, GB 11643),
	// including the residence permits of Hong Kong, Macau and Taiwan
	// residents (港澳台居民居住证, address codes 81/82/83) and 15-digit legacy
	// numbers.
	IDCard Kind = "idcard"
	// Mobile is a mainland mobile number (手机号), by allocated segments.
	Mobile Kind = "mobile"
	// USCC is a unified social credit code (统一社会信用代码, GB 32100).
	USCC Kind = "uscc"
	// BankCard is a payment card number of a major scheme (UnionPay,
	// Visa, Mastercard, American Express, JCB, Discover, Diners), Luhn-valid.
	BankCard Kind = "bankcard"
	// Passport is a passport number: PRC (incl. the E series), HKSAR, MSAR.
	Passport Kind = "passport"
	// TravelPermit is a Mainland travel permit: for Hong Kong and Macau
	// residents (回乡证, H/M), mainland residents to Hong Kong and Macau
	// (C) or Taiwan (L).
	TravelPermit Kind = "permit"
	// Plate is a PRC motor-vehicle plate (GA 36), new-energy plates
	// included.
	Plate Kind = "plate"
	// Email is an e-mail address.
	Email Kind = "email"
	// IP is an IPv4 or IPv6 address.
	IP Kind = "ip"
	// IBAN is an international bank account number (ISO 13616).
	IBAN Kind = "iban"
	// Phone is an international phone number in E.164 form (+CC...).
	Phone Kind = "phone"
)

// Kinds lists every kind the package detects, in a fixed order.
var Kinds = []Kind{IDCard, Mobile, USCC, BankCard, Passport, TravelPermit, Plate, Email, IP, IBAN, Phone}

// Finding is one piece of personal information found in a text.
type Finding struct {
	Kind Kind `json:"kind"`
	// Start and End are the byte offsets of the value in the text.
	Start int `json:"start"`
	End   int `json:"end"`
	// Value is the text found, as written (separators included).
	Value string `json:"value"`
	// Score is the confidence, 0 to 1: a check that holds gives most of
	// it, context words around the value raise or lower it.
	Score float64 `json:"score"`
	// Checked says that a check digit or character held (ID numbers,
	// credit codes, cards, IBANs), not only the shape.
	Checked bool `json:"checked,omitempty"`
	// Detail says more where it helps: the card scheme, "residence
	// permit", "legacy 15-digit", the passport series.
	Detail string `json:"detail,omitempty"`
}
