"""REST (the API-* criteria): the target's Parse Server through its REST API, proven with probes.

    facade.py        RestFacade (``session.rest``): what the API-* checks ask
    client.py        a small Parse REST client: every call has a timeout and returns an Answer (a fact)
    compare.py       what a Parse Server must give back for what was sent, differences as message lines
    flows.py         the REST criteria as sequences of steps, each naming the first failed step
    probes.py        probe objects, files and users (marked as the suite's own), always removed
    phase.py         one process's probe runs, removed by Session.close() whatever ends the run
    sweep.py         the start-of-run sweep of probes killed runs left behind (and its read-only survey)
    side_effects.py  what the app's triggers wrote because of the probes: found and (by default) undone
    sdk_client.py    the official Parse JavaScript SDK as a client: a Node.js child (sdk/driver.js), JSON lines
    sdk_flows.py     API-02, API-04 and API-07 again through that SDK, against the public URL, with the probes
    sdk/             driver.js and the pinned npm `parse` (package.json + lock), installed into the user's cache
"""
from cutover.rest.client import Answer, Identity, ParseClient
from cutover.rest.facade import NO_SERVER, RestFacade
from cutover.rest.flows import Flow
from cutover.rest.phase import ProbePhase, drop_classes
from cutover.rest.probes import ProbeRun
from cutover.rest.sdk_client import SdkClient
from cutover.rest.side_effects import NEW_CLASS, Effects, schemas, total_rows
from cutover.rest.sweep import Sweep, survey, sweep

__all__ = ["NEW_CLASS", "NO_SERVER", "Answer", "Effects", "Flow", "Identity", "ParseClient", "ProbePhase", "ProbeRun",
           "RestFacade", "SdkClient", "Sweep", "drop_classes", "schemas", "survey", "sweep", "total_rows"]
