"""MSAL (Debian's python3-msal) as a public client of partnerlink's token
service: the authorization code flow with PKCE and a loopback redirect URI.

  msal_codeflow.py start FLOWFILE REDIRECT_URI   prints the address to open
  msal_codeflow.py finish FLOWFILE QUERYSTRING   redeems the code; prints JSON

Environment: PL_URL (the server), PL_CLIENT_ID; REQUESTS_CA_BUNDLE trusts the
server's CA.
"""
import json
import os
import sys
import urllib.parse

import msal

app = msal.PublicClientApplication(
    os.environ["PL_CLIENT_ID"],
    authority=os.environ["PL_URL"] + "/organizations",
    instance_discovery=False,  # no call to a public host
)
scopes = ["https://management.core.windows.net//.default"]
cmd, flow_file = sys.argv[1], sys.argv[2]
if cmd == "start":
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=sys.argv[3])
    with open(flow_file, "w") as f:
        json.dump(flow, f)
    print(flow["auth_uri"])
elif cmd == "finish":
    with open(flow_file) as f:
        flow = json.load(f)
    response = dict(urllib.parse.parse_qsl(sys.argv[3]))
    result = app.acquire_token_by_auth_code_flow(flow, response)
    print(json.dumps({
        "error": result.get("error", ""),
        "error_description": result.get("error_description", ""),
        "access_token": result.get("access_token", ""),
        "has_refresh_token": bool(result.get("refresh_token")),
        "id_token_claims": result.get("id_token_claims", {}),
    }))
