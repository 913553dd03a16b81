"""Defects a REST or export source must catch (issue 13), registered in :data:`cutover_testing.defects.DEFECTS`.

Each changes only the target, in a way the REST <-> storage mapping sees: a value's JSON type, an ACL, a
pointer, a relation row, a class-level permission. (An Int64 that became a Double is not among them: JSON
has one number type, so a REST source cannot see it; the MongoDB source's scenarios prove that one.)
"""
from __future__ import annotations

from cutover_testing.defects import Handles, Planted, _defect, _set, nth


@_defect("number_became_string", "one GameScore's score (a number) became a string on the target", "DB-02", "DB-08")
def number_became_string(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore", 4)
    _set(h, "GameScore", doc["_id"], "score", str(doc["score"]))
    return Planted("number_became_string", "GameScore", (doc["_id"],), "score", detail="number -> string")


@_defect("lost_acl", "one GameScore lost its ACL (_rperm, _wperm, _acl) on the target", "DB-02")
def lost_acl(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore", 5)
    h.target_db["GameScore"].update_one({"_id": doc["_id"]}, {"$unset": {"_rperm": "", "_wperm": "", "_acl": ""}})
    return Planted("lost_acl", "GameScore", (doc["_id"],), "_rperm", detail="ACL removed")


@_defect("lost_pointer", "one GameScore lost its player pointer (_p_player) on the target", "DB-02")
def lost_pointer(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore", 6)
    h.target_db["GameScore"].update_one({"_id": doc["_id"]}, {"$unset": {"_p_player": ""}})
    return Planted("lost_pointer", "GameScore", (doc["_id"],), "_p_player", detail="pointer removed")


@_defect("lost_relation_row", "one row of Post.likes (_Join:likes:Post) is missing on the target", "DB-02")
def lost_relation_row(h: Handles) -> Planted:
    row = nth(h.target_db, "_Join:likes:Post")
    h.target_db["_Join:likes:Post"].delete_one({"_id": row["_id"]})
    return Planted("lost_relation_row", "_Join:likes:Post", (str(row["owningId"]), str(row["relatedId"])),
                   detail=f"relation row {row['_id']} deleted")


@_defect("changed_clp", "GameScore's class-level permission 'find' is open to role:Nobody only on the target",
         "DB-07")
def changed_clp(h: Handles) -> Planted:
    h.target_db["_SCHEMA"].update_one({"_id": "GameScore"},
                                      {"$set": {"_metadata.class_permissions.find": {"role:Nobody": True}}})
    return Planted("changed_clp", "GameScore", field="find", detail="find: {'*': true} -> {'role:Nobody': true}")
