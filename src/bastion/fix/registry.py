"""Every fixer, by the id of the rule whose findings it removes."""

from __future__ import annotations

from bastion.fix.base import Fixer
from bastion.fix.excessive_permissions import ExcessivePermissions
from bastion.fix.persisted_credentials import PersistedCredentials
from bastion.fix.release_cache import ReleaseCache
from bastion.fix.template_injection import TemplateInjection
from bastion.fix.updater_cooldown import UpdaterCooldown

FIXERS: dict[str, Fixer] = {
    fixer.rule: fixer
    for fixer in (
        ExcessivePermissions(),
        PersistedCredentials(),
        ReleaseCache(),
        TemplateInjection(),
        UpdaterCooldown(),
    )
}

NO_FIXER_HINTS: dict[str, str] = {
    "unpinned-action": "pinning asks the network: run `bastion fix --pin`, or `bastion pin`"
}
"""Why a finding without a fixer here can still be fixed another way."""
