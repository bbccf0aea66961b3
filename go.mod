module hegui.dev/hegui

go 1.26.0

require (
	github.com/emmansun/gmsm v0.44.1
	golang.org/x/crypto v0.54.0
)

require (
	github.com/miekg/pkcs11 v1.1.2
	github.com/stefanberger/go-pkcs11uri v0.0.0-20230803200340-78284954bff6
	golang.org/x/sys v0.49.0
)
