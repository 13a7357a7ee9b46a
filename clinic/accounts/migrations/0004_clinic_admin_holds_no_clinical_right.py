"""A clinic admin holds no clinical right: no break-glass right (a check constraint), and no
care team, as a member or as its lead (triggers, since memberships are a many-to-many table).

The triggers lock the user row (FOR SHARE) before reading its role, so a membership being added
and the same user being made an admin at the same moment cannot both succeed: whichever comes
second waits for the first and then sees it.
"""

from django.db import migrations, models

ADMIN_HOLDS_NO_CARE_TEAM = """
DO $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM accounts_user u
    WHERE u.role = 'admin' AND (
      EXISTS (SELECT 1 FROM accounts_user_care_teams m WHERE m.user_id = u.id)
      OR EXISTS (SELECT 1 FROM accounts_careteam t WHERE t.lead_neurologist_id = u.id))
  ) THEN
    RAISE EXCEPTION 'Some clinic admins are members or leads of care teams. Take them off those '
                    'teams (or give them a clinical role) before migrating.';
  END IF;
END $$;

CREATE FUNCTION accounts_clinic_admin_holds_no_care_team() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  member_role text;
BEGIN
  IF TG_TABLE_NAME = 'accounts_user' THEN
    IF NEW.role = 'admin' AND (
      EXISTS (SELECT 1 FROM accounts_user_care_teams WHERE user_id = NEW.id)
      OR EXISTS (SELECT 1 FROM accounts_careteam WHERE lead_neurologist_id = NEW.id)
    ) THEN
      RAISE EXCEPTION 'A clinic admin cannot be in or lead a care team (user %)', NEW.id
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'accounts_user_care_teams' THEN
    SELECT role INTO member_role FROM accounts_user WHERE id = NEW.user_id FOR SHARE;
  ELSIF NEW.lead_neurologist_id IS NOT NULL THEN
    SELECT role INTO member_role FROM accounts_user WHERE id = NEW.lead_neurologist_id FOR SHARE;
  END IF;
  IF member_role = 'admin' THEN
    RAISE EXCEPTION 'A clinic admin cannot be in or lead a care team'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER clinic_admin_holds_no_care_team
  BEFORE UPDATE OF role ON accounts_user
  FOR EACH ROW EXECUTE FUNCTION accounts_clinic_admin_holds_no_care_team();
CREATE TRIGGER clinic_admin_is_in_no_care_team
  BEFORE INSERT OR UPDATE ON accounts_user_care_teams
  FOR EACH ROW EXECUTE FUNCTION accounts_clinic_admin_holds_no_care_team();
CREATE TRIGGER clinic_admin_leads_no_care_team
  BEFORE INSERT OR UPDATE OF lead_neurologist_id ON accounts_careteam
  FOR EACH ROW EXECUTE FUNCTION accounts_clinic_admin_holds_no_care_team();
"""

DROP_ADMIN_HOLDS_NO_CARE_TEAM = """
DROP TRIGGER clinic_admin_holds_no_care_team ON accounts_user;
DROP TRIGGER clinic_admin_is_in_no_care_team ON accounts_user_care_teams;
DROP TRIGGER clinic_admin_leads_no_care_team ON accounts_careteam;
DROP FUNCTION accounts_clinic_admin_holds_no_care_team();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sign_in_failures"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False,
                help_text="Set when a clinic admin chose the password: every page asks for a new one.",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("role__in", ["neurologist", "nurse", "therapist", "admin"])),
                name="role_is_known",
                violation_error_message="Choose a role.",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("role", "admin"), _negated=True),
                    ("can_break_glass", False),
                    _connector="OR",
                ),
                name="clinic_admin_cannot_break_glass",
                violation_error_message="A clinic admin cannot hold the break-glass right.",
            ),
        ),
        migrations.RunSQL(ADMIN_HOLDS_NO_CARE_TEAM, DROP_ADMIN_HOLDS_NO_CARE_TEAM),
    ]
