"""Drive a partnerlink server's Microsoft.Authorization surface with the
Azure Python SDK (azure-identity + azure-mgmt-authorization, Debian
python3-azure), unmodified.

Usage: authorization.py STEP [STEP ...]
  STEP is roledef:NAME | create:NAME | get:NAME | list | delete:NAME | gone:NAME (a get expected to fail)
Environment:
  PL_URL, PL_TENANT, PL_KIND (sp | user), PL_CLIENT_ID, PL_SECRET,
  PL_USERNAME, PL_PASSWORD  as for managementpartner.py
  PL_SUBSCRIPTION   the subscription of the client
  PL_SCOPE          the scope the steps act at
  PL_PRINCIPAL      the principal create: assigns (Reader)
Prints one JSON object per line per step: {"step", "ok", "result" | "error"}.
"""

import json
import os
import sys

from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential, UsernamePasswordCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

ARM_SCOPE = "https://management.core.windows.net//.default"
PUBLIC_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def credential(base):
    tenant = os.environ["PL_TENANT"]
    if os.environ["PL_KIND"] == "sp":
        return ClientSecretCredential(tenant, os.environ["PL_CLIENT_ID"], os.environ["PL_SECRET"],
                                      authority=base, instance_discovery=False)
    # tenant "adfs": MSAL skips its user-realm lookup (which would drop the port).
    return UsernamePasswordCredential(PUBLIC_CLIENT_ID, os.environ["PL_USERNAME"], os.environ["PL_PASSWORD"],
                                      tenant_id=tenant, authority=base, instance_discovery=False)


def assignment(a):
    return {"id": a.id, "name": a.name, "scope": a.scope, "principalId": a.principal_id,
            "principalType": a.principal_type, "roleDefinitionId": a.role_definition_id}


def run(c, step, state):
    verb, _, arg = step.partition(":")
    scope = os.environ["PL_SCOPE"]
    if verb == "roledef":
        defs = list(c.role_definitions.list(scope, filter="roleName eq '%s'" % arg))
        state["role"] = defs[0].id
        return [{"id": d.id, "roleName": d.role_name, "type": d.role_type} for d in defs]
    if verb == "create":
        params = RoleAssignmentCreateParameters(role_definition_id=state["role"],
                                                principal_id=os.environ["PL_PRINCIPAL"], principal_type="ServicePrincipal")
        return assignment(c.role_assignments.create(scope, arg, params))
    if verb in ("get", "gone"):
        return assignment(c.role_assignments.get(scope, arg))
    if verb == "list":
        return [assignment(a) for a in c.role_assignments.list_for_scope(scope, filter="atScope()")]
    if verb == "delete":
        return assignment(c.role_assignments.delete(scope, arg))
    raise SystemExit("unknown step " + step)


def main():
    base = os.environ["PL_URL"]
    c = AuthorizationManagementClient(credential(base), os.environ["PL_SUBSCRIPTION"], base_url=base,
                                      credential_scopes=[ARM_SCOPE])
    state = {}
    for step in sys.argv[1:]:
        out = {"step": step}
        try:
            out["result"] = run(c, step, state)
            out["ok"] = True
        except HttpResponseError as e:
            out["ok"] = False
            out["error"] = {"type": type(e).__name__, "status": e.status_code,
                            "code": e.error.code if e.error else None,
                            "message": e.error.message if e.error else e.message}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
