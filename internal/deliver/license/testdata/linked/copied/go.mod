module example.com/copied

go 1.22
