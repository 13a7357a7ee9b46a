"""TOTP multi-factor authentication on top of django-otp.

After the password step a user without a confirmed device enrols one (QR code and manual key),
and a user with one enters the current code. Until then every page except these and sign-out
redirects here (MfaRequiredMiddleware).
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import User

ENROLMENT_DEVICE_NAME = "Authenticator app"


def mfa_required_for(user: User) -> bool:
    return bool(settings.MFA_REQUIRED) and user.is_authenticated


def is_verified(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_verified", lambda: False)())


def confirmed_device(user: User) -> TOTPDevice | None:
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, TOTPDevice):
            return device
    return None


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled; one per user, kept until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=ENROLMENT_DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no image request, nothing leaves the server)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def manual_key(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
