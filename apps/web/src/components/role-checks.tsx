import { ROLES, type Role } from '../api.ts';

const ROLE_HELP: Record<Role, string> = {
  admin: 'users and service accounts',
  security_lead: 'credentials and policies',
  operator: 'custodian: approves requests',
  requester: 'submits requests',
  auditor: 'reads the audit log',
};

export function RoleChecks({ roles, onChange, legend = 'Roles' }: { roles: Role[]; onChange: (roles: Role[]) => void; legend?: string }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      <div className="checks">
        {ROLES.map((r) => (
          <label key={r} className="checkbox">
            <input type="checkbox" name="role" value={r} checked={roles.includes(r)} onChange={(e) => onChange(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} />{' '}
            {r} <span className="muted small">({ROLE_HELP[r]})</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
