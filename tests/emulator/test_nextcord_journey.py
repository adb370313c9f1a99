"""The real nextcord 3 client against the emulator, configured only as production is: the
REST base (`Route.BASE`, from settings.DISCORD_API_BASE) and the token. Each step of the
referral journey Discord-side is asserted: READY/GUILD_CREATE, a join through an invite, a
persistent button, a modal and its submit, a role, INVITE_CREATE/INVITE_DELETE."""

from __future__ import annotations

import nextcord

from botworker.emulator import defaults

GUILD = int(defaults.GUILD_ID)


class OnboardingForm(nextcord.ui.Modal):
    def __init__(self) -> None:
        super().__init__(title="Tell us about you", custom_id="onboarding:form", timeout=None)
        self.game = nextcord.ui.TextInput(label="Favourite game", custom_id="onboarding:game")
        self.add_item(self.game)
        self.submitted: list[tuple[int, str]] = []

    async def callback(self, interaction: nextcord.Interaction) -> None:
        self.submitted.append((interaction.user.id, self.game.value or ""))
        role = interaction.guild.get_role(int(defaults.PARTICIPANT_ROLE_ID))
        await interaction.user.add_roles(role)
        await interaction.response.send_message("Thanks, you are in!", ephemeral=True)


class WelcomeView(nextcord.ui.View):
    """A persistent view: no timeout and a fixed custom_id, registered with `add_view`."""

    def __init__(self, form: OnboardingForm) -> None:
        super().__init__(timeout=None)
        self.form = form

    @nextcord.ui.button(label="Start onboarding", custom_id="onboarding:start")
    async def start(self, button: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        await interaction.response.send_modal(self.form)


async def test_it_gives_nextcord_ready_and_guild_create(emulator, discord_client):
    # given the seeded emulator
    # when a real nextcord client logs in
    client, _ = await discord_client(emulator)

    # then READY named the bot and GUILD_CREATE delivered the default guild in full
    assert client.user.id == int(defaults.APPLICATION_ID)
    guild = client.get_guild(GUILD)
    assert guild is not None and guild.name == defaults.GUILD_NAME
    assert guild.system_channel.id == int(defaults.WELCOME_CHANNEL_ID)
    assert guild.me.get_role(int(defaults.BOT_ROLE_ID)) is not None
    assert guild.default_role.id == GUILD
    assert guild.member_count == len(guild.members) == 2
    assert emulator.calls["GET /gateway"] == 1


async def test_it_sends_member_join_for_an_invite_accepted_via_the_control_api(
    emulator, discord_client, api
):
    # given a ready client and an invite the bot created
    client, log = await discord_client(emulator, record=("member_join",))
    channel = client.get_channel(int(defaults.INVITE_CHANNEL_ID))
    invite = await channel.create_invite(max_uses=1, max_age=3600, unique=True)

    # when a new user accepts it through the control API
    status, joined = await api.control("POST", f"/invites/{invite.code}/accept", {})

    # then the bot sees the member join
    assert status == 200
    (member,) = await log.wait("member_join")
    assert member.id == int(joined["member"]["user"]["id"])
    assert member.guild.id == GUILD
    truth = emulator.ground_truth()[-1]
    assert (truth["user_id"], truth["invite_code"]) == (str(member.id), invite.code)


async def test_it_runs_button_modal_submit_and_role(emulator, discord_client):
    # given a client with a persistent welcome view that posted its button message
    form = OnboardingForm()
    client, _ = await discord_client(emulator, setup=lambda c: c.add_view(WelcomeView(form)))
    welcome = client.get_channel(int(defaults.WELCOME_CHANNEL_ID))
    message = await welcome.send("Welcome!", view=WelcomeView(form))
    user = emulator.create_user("dana")
    invite = emulator.create_invite(max_uses=1)
    emulator.accept_invite(invite.code, user.id)

    # when the member clicks the button, which the bot answers with the modal
    click = emulator.click_button(user.id, str(message.id), "onboarding:start")
    await emulator.wait_for_response(click.id)

    # then the modal is shown to them
    assert click.response_type == 9
    assert click.modal["custom_id"] == "onboarding:form"

    # when they submit it
    submit = emulator.submit_modal(user.id, click.id, {"onboarding:game": "chess"})
    await emulator.wait_for_response(submit.id)

    # then the bot received the values, added the role and replied only to them
    assert form.submitted == [(int(user.id), "chess")]
    member = next(m for m in emulator.members() if m["user"]["id"] == user.id)
    assert defaults.PARTICIPANT_ROLE_ID in member["roles"]
    reply = emulator.interaction_state(submit.id)["messages"][0]
    assert reply["content"] == "Thanks, you are in!" and reply["flags"] & 64
    assert [m["content"] for m in emulator.messages(defaults.WELCOME_CHANNEL_ID)] == ["Welcome!"]
    emulator.assert_no_failed_interactions()


async def test_it_dispatches_invite_create_and_invite_delete(emulator, discord_client):
    # given a ready client with the GUILD_INVITES intent (in the defaults)
    client, log = await discord_client(emulator, record=("invite_create", "invite_delete"))
    channel = client.get_channel(int(defaults.INVITE_CHANNEL_ID))

    # when the bot creates a single-use invite and a user consumes it
    invite = await channel.create_invite(max_uses=1, unique=True)
    (created,) = await log.wait("invite_create")
    emulator.accept_invite(invite.code)

    # then both events arrive, for that code
    (deleted,) = await log.wait("invite_delete")
    assert created.code == deleted.code == invite.code
    assert deleted.guild.id == GUILD and deleted.channel.id == channel.id
