// populateIpcRings(): maps every page of this process's libqb IPC rings (the shared-memory
// request, response and event rings of each corosync connection) into its page tables at once.
//
// Why: corosync holds every page of these rings resident from the moment a client connects (its
// own mapping of each ring shows the whole ring in Rss), so the pages cost no memory twice. On
// our side a page is counted in our RSS only once a message first passes through it, so RSS
// crept up with every change (and with the watchdog gate's cmap reads while idle) until each
// ring had wrapped once: up to 1 MiB per ring, 15 rings. Populated at connect, the footprint is
// its steady state from the start, and no IPC call takes a page fault during a takeover
// (corosync itself locks all its memory for the same reason).
#pragma once
#include <napi.h>

namespace corolistener {

// () => { mappings, kib }: the ring mappings populated and their size. Only the first mapping of
// each ring file: libqb maps each ring twice in a row so a message may wrap around its end, and
// the second mapping is touched only by the bytes that do.
Napi::Value PopulateIpcRings(const Napi::CallbackInfo& info);

}  // namespace corolistener
