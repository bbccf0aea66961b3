module example.com/app

go 1.22

require (
	example.com/apache v1.0.0
	example.com/copied v1.0.0
)

replace (
	example.com/apache => ../apache
	example.com/copied => ../copied
)
