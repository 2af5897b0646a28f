"""Sign-ins of the demo company (`costwarden demo` writes them into costwarden.demo.toml).

DEMO ONLY: the passwords are published here and in the README so anyone can try each role. A real install hashes
its own with `costwarden dashboard hash-password`.
"""

from __future__ import annotations

from dashboard.passwords import hash_password

# name, password, role, departments, teams
DEMO_USERS = (
    ("admin", "admin-demo", "admin", (), ()),
    ("finance", "finance-demo", "finance", (), ()),
    ("product-lead", "lead-demo", "team_lead", ("product",), ()),
    ("support-lead", "lead-demo", "team_lead", (), ("support-automation",)),
    ("viewer", "viewer-demo", "viewer", (), ()),
)


def config_lines() -> list[str]:
    """TOML lines for the demo's [dashboard] section (cheaper scrypt than production: it is a demo)."""
    lines = ["# DEMO ONLY sign-ins (passwords in README.md): admin/admin-demo, finance/finance-demo,",
             "# product-lead/lead-demo (department product), support-lead/lead-demo (team support-automation),",
             "# viewer/viewer-demo (read-only, every scope).", "[dashboard]", "require_sign_in = true", ""]
    for name, password, role, departments, teams in DEMO_USERS:
        lines += ["[[dashboard.users]]", f'name = "{name}"', f'email = "{name}@acme.example"',
                  f'login_hash = "{hash_password(password, log2_n=14)}"', f'role = "{role}"',
                  f"departments = {list(departments)!r}".replace("'", '"'),
                  f"teams = {list(teams)!r}".replace("'", '"'), ""]
    return lines
