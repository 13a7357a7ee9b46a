"""TOTP multi-factor authentication on top of django-otp.

After the password step a user without a confirmed device enrols one (QR code and manual key),
and a user with one enters the current code. Until then every page except these and sign-out
redirects here (MfaRequiredMiddleware).

Enrolment writes nothing to the database until a code proves the app holds the secret: the
pending secret lives in the user's (server-side) session, signed and bound to the user, so
opening the set-up page, reloading it or walking away leaves no device behind. After
enrolment the secret is never shown again, to anyone.
"""

from __future__ import annotations

import base64
import io
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from clinic.accounts.models import User

ENROLMENT_DEVICE_NAME = "Authenticator app"
PENDING_SECRET = "myelin_mfa_pending_secret"  # noqa: S105 (a session key name)
_PENDING_SALT = "clinic.accounts.mfa.pending-secret"


def mfa_required_for(user: User) -> bool:
    return bool(settings.MFA_REQUIRED) and user.is_authenticated


def is_verified(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_verified", lambda: False)())


def confirmed_device(user: User) -> TOTPDevice | None:
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice):
            return device
    return None


def pending_device(request: HttpRequest, user: User) -> TOTPDevice:
    """The device being enrolled, unsaved. Its secret stays the same for the whole session, so
    a code scanned before a reload still works."""
    key = _pending_key(request, user)
    if key is None:
        key = random_hex(20)
        request.session[PENDING_SECRET] = signing.dumps(
            {"user": user.pk, "key": key}, salt=_PENDING_SALT
        )
    return TOTPDevice(user=user, name=ENROLMENT_DEVICE_NAME, key=key, confirmed=False)


def _pending_key(request: HttpRequest, user: User) -> str | None:
    value = request.session.get(PENDING_SECRET)
    if not isinstance(value, str):
        return None
    try:
        data = signing.loads(value, salt=_PENDING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("user") != user.pk:
        return None
    key = data.get("key")
    return key if isinstance(key, str) else None


def confirm_enrolment(request: HttpRequest, user: User, token: str) -> TOTPDevice | None:
    """Save the pending device if `token` is a current code from it; None if it is not, or if
    the user already has a confirmed device (another tab finished first)."""
    device = pending_device(request, user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), tolerance=device.tolerance):
        return None
    with transaction.atomic():
        # Two tabs confirming at once must not leave the user with two devices.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if confirmed_device(user) is not None:
            return None
        # Earlier versions saved a device when the page was opened; none of those is needed.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device.confirmed = True
        device.last_t = totp.t()  # this code cannot be used again to sign in
        device.drift = totp.drift
        device.save()
    request.session.pop(PENDING_SECRET, None)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no image request, nothing leaves the server)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def manual_key(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
