import { CreateAccounts1763900000000 } from './1763900000000-CreateAccounts.js';
import { CreateQuorumCore1763900100000 } from './1763900100000-CreateQuorumCore.js';
import { InstallJobQueue1763900200000 } from './1763900200000-InstallJobQueue.js';
import { AddOperationTimeouts1763900300000 } from './1763900300000-AddOperationTimeouts.js';
import { ChainAuditInDatabase1763900400000 } from './1763900400000-ChainAuditInDatabase.js';
import { AddLoginFailures1763900500000 } from './1763900500000-AddLoginFailures.js';
import { AddAccountLifecycle1763900600000 } from './1763900600000-AddAccountLifecycle.js';
import { DropExecutingSince1763900700000 } from './1763900700000-DropExecutingSince.js';
import { BindRequestsToWhatWasSigned1763900800000 } from './1763900800000-BindRequestsToWhatWasSigned.js';
import { ChainCheckpoints1763900900000 } from './1763900900000-ChainCheckpoints.js';
import { MacEnrolledKeysAndShares1763901000000 } from './1763901000000-MacEnrolledKeysAndShares.js';
import { PeopleBehindRequests1763901100000 } from './1763901100000-PeopleBehindRequests.js';
import { AddSessionEpoch1763901400000 } from './1763901400000-AddSessionEpoch.js';
import { AddCheckInsAndHealth1763902000000 } from './1763902000000-AddCheckInsAndHealth.js';
import { AddSharingGroups1763903000000 } from './1763903000000-AddSharingGroups.js';
import { AddNotifications1763904000000 } from './1763904000000-AddNotifications.js';
import { LinkUsersToOidcIdentities1763905000000 } from './1763905000000-LinkUsersToOidcIdentities.js';
import { AddMustChangePassword1763906000000 } from './1763906000000-AddMustChangePassword.js';
import { AddCredentialVersions1763907000000 } from './1763907000000-AddCredentialVersions.js';
import { AddMarginAlerts1763908000000 } from './1763908000000-AddMarginAlerts.js';
import { SoftDeletePolicies1763909800000 } from './1763909800000-SoftDeletePolicies.js';
import { SignalPrincipalChanges1763910000000 } from './1763910000000-SignalPrincipalChanges.js';

/** Every migration, oldest first. Listed explicitly so that builds and tests load the same set. */
export const MIGRATIONS = [CreateAccounts1763900000000, CreateQuorumCore1763900100000, InstallJobQueue1763900200000, AddOperationTimeouts1763900300000, ChainAuditInDatabase1763900400000, AddLoginFailures1763900500000, AddAccountLifecycle1763900600000, DropExecutingSince1763900700000, BindRequestsToWhatWasSigned1763900800000, ChainCheckpoints1763900900000, MacEnrolledKeysAndShares1763901000000, PeopleBehindRequests1763901100000, AddSessionEpoch1763901400000, AddCheckInsAndHealth1763902000000, AddSharingGroups1763903000000, AddNotifications1763904000000, LinkUsersToOidcIdentities1763905000000, AddMustChangePassword1763906000000, AddCredentialVersions1763907000000, AddMarginAlerts1763908000000, SoftDeletePolicies1763909800000, SignalPrincipalChanges1763910000000];
