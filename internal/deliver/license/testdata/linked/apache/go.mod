module example.com/apache

go 1.22
