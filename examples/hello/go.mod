module example.com/hello

go 1.26.0

require golang.org/x/text v0.31.0
