"""Drive a partnerlink server with the Azure Python SDK (azure-identity +
azure-mgmt-managementpartner, Debian python3-azure), as the e2e tests do.

Usage: managementpartner.py STEP [STEP ...]
  STEP is current | get:ID | create:ID | update:ID | delete:ID | operations
Environment:
  PL_URL           the server's base URL (https://127.0.0.1:PORT)
  PL_TENANT        the tenant to sign in to
  PL_KIND          sp (client credentials) or user (username and password)
  PL_CLIENT_ID, PL_SECRET      for sp
  PL_USERNAME, PL_PASSWORD     for user
  REQUESTS_CA_BUNDLE           the server's CA
Prints one JSON object per line per step: {"step", "ok", "result" | "error"}.
"""

import json
import os
import sys
from urllib.parse import urlparse

import msal.authority
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential, UsernamePasswordCredential
from azure.mgmt.managementpartner import ACEProvisioningManagementPartnerAPI

ARM_SCOPE = "https://management.core.windows.net//.default"
# az CLI's public client id; the server accepts any GUID for public clients.
PUBLIC_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def credential(base):
    tenant = os.environ["PL_TENANT"]
    if os.environ["PL_KIND"] == "sp":
        return ClientSecretCredential(tenant, os.environ["PL_CLIENT_ID"], os.environ["PL_SECRET"],
                                      authority=base, instance_discovery=False)
    # MSAL Python 1.21 asks https://{host}/common/userrealm/... on port 443
    # (it drops the authority's port) before a username/password grant. The
    # server answers that path on its own port; tell MSAL to skip the
    # discovery for this host, as it does itself after a 404.
    msal.authority.Authority._domains_without_user_realm_discovery.add(urlparse(base).hostname)
    return UsernamePasswordCredential(PUBLIC_CLIENT_ID, os.environ["PL_USERNAME"], os.environ["PL_PASSWORD"],
                                      tenant_id=tenant, authority=base, instance_discovery=False)


def partner(p):
    return {
        "id": p.id, "name": p.name, "type": p.type, "etag": p.etag,
        "partnerId": p.partner_id, "partnerName": p.partner_name,
        "tenantId": p.tenant_id, "objectId": p.object_id, "version": p.version,
        "createdTime": p.created_time.isoformat() if p.created_time else None,
        "updatedTime": p.updated_time.isoformat() if p.updated_time else None,
        "state": p.state,
    }


def run(c, step):
    verb, _, arg = step.partition(":")
    if verb == "current":
        return partner(c.partners.get())
    if verb == "get":
        return partner(c.partner.get(arg))
    if verb == "create":
        return partner(c.partner.create(arg))
    if verb == "update":
        return partner(c.partner.update(arg))
    if verb == "delete":
        c.partner.delete(arg)
        return {"deleted": arg}
    if verb == "operations":
        return [{"name": o.name, "provider": o.display.provider, "operation": o.display.operation}
                for o in c.operation.list()]
    raise SystemExit("unknown step " + step)


def main():
    base = os.environ["PL_URL"]
    c = ACEProvisioningManagementPartnerAPI(credential(base), base_url=base, credential_scopes=[ARM_SCOPE])
    for step in sys.argv[1:]:
        out = {"step": step}
        try:
            out["result"] = run(c, step)
            out["ok"] = True
        except HttpResponseError as e:
            out["ok"] = False
            out["error"] = {
                "type": type(e).__name__,
                "status": e.status_code,
                "code": e.error.code if e.error else None,
                "message": e.error.message if e.error else e.message,
            }
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
