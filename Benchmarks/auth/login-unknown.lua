-- wrk: POST /login for an email no account has.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"emailId":"nobody-here@example.com","password":"correct horse 1"}'
