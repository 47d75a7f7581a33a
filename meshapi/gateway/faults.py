"""``meshapi.gateway.faults``: the 0.1.x module path of the fault plan, kept as a re-export.

The plan now lives in ``meshapi_gateway.faults.plan`` and the request log it used to re-export in
``meshapi_gateway.record.reqlog``; this module gives both under the old path.
"""

from meshapi_gateway.faults.plan import Fault, FaultBody, FaultPlan
from meshapi_gateway.record.reqlog import RequestLog, RequestRecord

__all__ = ["Fault", "FaultBody", "FaultPlan", "RequestLog", "RequestRecord"]
