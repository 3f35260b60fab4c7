"""The rule registry: one line per rule, in the order `bastion rules` lists them."""

from __future__ import annotations

from bastion.rules.actions_not_updated import ActionsNotUpdated
from bastion.rules.base import Hit, Option, Rule
from bastion.rules.dangerous_trigger import DangerousTrigger
from bastion.rules.env_file_injection import EnvFileInjection
from bastion.rules.excessive_permissions import ExcessivePermissions
from bastion.rules.hardcoded_credential import HardcodedCredential
from bastion.rules.impostor_commit import ImpostorCommit
from bastion.rules.latest_version_default import LatestVersionDefault
from bastion.rules.lock_drift import LockDrift
from bastion.rules.lock_identity import LockIdentity
from bastion.rules.missing_provenance import MissingProvenance
from bastion.rules.mutable_docker_image import MutableDockerImage
from bastion.rules.nested_mutable_uses import NestedMutableUses
from bastion.rules.nested_unverified_download import NestedUnverifiedDownload
from bastion.rules.no_dependency_updater import NoDependencyUpdater
from bastion.rules.persisted_credentials import PersistedCredentials
from bastion.rules.publish_outside_environment import PublishOutsideEnvironment
from bastion.rules.release_cache import ReleaseCache
from bastion.rules.release_links import RELEASE_LINK_RULES
from bastion.rules.repository_settings import SETTINGS_RULES
from bastion.rules.secret_outside_environment import SecretOutsideEnvironment
from bastion.rules.secrets_inherit import SecretsInherit
from bastion.rules.stale_lock_entry import StaleLockEntry
from bastion.rules.stored_publish_credential import StoredPublishCredential
from bastion.rules.syntax_error import SyntaxError_
from bastion.rules.template_injection import TemplateInjection
from bastion.rules.unknown_ref import UnknownRef
from bastion.rules.unpinned_action import UnpinnedAction
from bastion.rules.unpinned_image import UnpinnedImage
from bastion.rules.unpinned_pre_commit import UnpinnedPreCommit
from bastion.rules.unresolved_uses import UnresolvedUses
from bastion.rules.untrusted_checkout import UntrustedCheckout
from bastion.rules.unverified_download import UnverifiedDownload
from bastion.rules.updater_code_execution import UpdaterCodeExecution
from bastion.rules.updater_cooldown import UpdaterCooldown
from bastion.rules.version_comment_mismatch import VersionCommentMismatch

RULES: tuple[type[Rule], ...] = (
    DangerousTrigger,
    UntrustedCheckout,
    UnpinnedAction,
    StaleLockEntry,
    UnpinnedImage,
    ImpostorCommit,
    VersionCommentMismatch,
    UnknownRef,
    LockDrift,
    LockIdentity,
    ExcessivePermissions,
    SecretOutsideEnvironment,
    SecretsInherit,
    HardcodedCredential,
    TemplateInjection,
    EnvFileInjection,
    PersistedCredentials,
    ReleaseCache,
    StoredPublishCredential,
    PublishOutsideEnvironment,
    MissingProvenance,
    UnverifiedDownload,
    NestedMutableUses,
    NestedUnverifiedDownload,
    MutableDockerImage,
    LatestVersionDefault,
    UnresolvedUses,
    NoDependencyUpdater,
    UpdaterCooldown,
    ActionsNotUpdated,
    UpdaterCodeExecution,
    UnpinnedPreCommit,
    SyntaxError_,
    *SETTINGS_RULES,
    *RELEASE_LINK_RULES,
)

RULES_BY_ID: dict[str, type[Rule]] = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Hit", "Option", "Rule"]
