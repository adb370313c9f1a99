"""The local Discord's default world, shared with `manage.py demo_data`.

Fixed snowflakes so that a fresh `make demo` has the emulator and the demo campaign agree on which
guild, channels and roles exist. They are ordinary 19-digit snowflakes (Discord ids are 17–20
digits); the emulator generates time-based ids for everything created at run time.
"""

APPLICATION_ID = "1300000000000000001"  # also the bot user's id, as on Discord
BOT_USERNAME = "Invitetrail"
BOT_TOKEN = "emulator-bot-token"  # the emulator accepts exactly this token by default
CLIENT_SECRET = "emulator-client-secret"  # OAuth2 client secret of the default application

GUILD_ID = "1300000000000000100"
GUILD_NAME = "Invitetrail Demo"
OWNER_USER_ID = "1300000000000000050"

# Channels (type 0 = GUILD_TEXT).
INVITE_CHANNEL_ID = "1300000000000000200"  # "#start-here": where managed invites are created
WELCOME_CHANNEL_ID = "1300000000000000201"  # "#welcome": the guild's system channel
GENERAL_CHANNEL_ID = "1300000000000000202"  # "#general"

# Roles, lowest to highest position. @everyone's id equals the guild id.
MEMBER_ROLE_ID = "1300000000000000300"  # "Member"
PARTICIPANT_ROLE_ID = "1300000000000000301"  # "Campaign Participant"
BOT_ROLE_ID = "1300000000000000302"  # "Invitetrail" (the bot's managed role, above the two)
ADMIN_ROLE_ID = "1300000000000000303"  # "Admin" (above the bot: a role the bot cannot assign)
