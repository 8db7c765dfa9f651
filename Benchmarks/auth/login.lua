-- wrk: POST /login for the account scripts/bench auth created.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"emailId":"bench@example.com","password":"correct horse 1"}'
