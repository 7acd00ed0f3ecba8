"""Every table of the application: importing this registers them all in ``Base.metadata``."""

from tradeguard.access import models as access_models
from tradeguard.aml import models as aml_models
from tradeguard.apikeys import models as apikey_models
from tradeguard.audit import models as audit_models
from tradeguard.cases import models as case_models
from tradeguard.crypto import models as crypto_models
from tradeguard.db import installation
from tradeguard.fraud import models as fraud_models
from tradeguard.identity import models as identity_models
from tradeguard.kyc import models as kyc_models
from tradeguard.ledger import models as ledger_models
from tradeguard.payments import models as payment_models
from tradeguard.routing import models as routing_models
from tradeguard.screening import models as screening_models
from tradeguard.surveillance import models as surveillance_models
from tradeguard.trading import models as trading_models
from tradeguard.watch import models as watch_models

__all__ = [
    "access_models",
    "aml_models",
    "apikey_models",
    "audit_models",
    "case_models",
    "crypto_models",
    "fraud_models",
    "identity_models",
    "installation",
    "kyc_models",
    "ledger_models",
    "payment_models",
    "routing_models",
    "screening_models",
    "surveillance_models",
    "trading_models",
    "watch_models",
]
