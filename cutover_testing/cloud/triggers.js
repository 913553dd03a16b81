'use strict';
// Triggers of an app that writes elsewhere when its objects are saved: what probes set off on a real app.
// Installed by a generated cloud file (cutover_testing.variants.app_triggers) after main.js:
//   require('.../triggers.js')({ probeClass: 'CutoverProbe', requiredField: '' });
// - an afterSave on _User creates a Profile pointing at the new user (ACL: that user only)
// - an afterSave on the probe class increments a counter object in another class (created on first use)
// - with requiredField, a beforeSave on the probe class rejects objects that lack that field

module.exports = function install(options) {
  const probeClass = options.probeClass || 'CutoverProbe';

  Parse.Cloud.afterSave(Parse.User, async (request) => {
    if (request.original) return; // new users only
    const profile = new Parse.Object('Profile');
    profile.set('user', request.object);
    profile.setACL(new Parse.ACL(request.object));
    await profile.save(null, { useMasterKey: true });
  });

  Parse.Cloud.afterSave(probeClass, async () => {
    let counter = await new Parse.Query('SaveCounter').first({ useMasterKey: true });
    if (!counter) counter = new Parse.Object('SaveCounter');
    counter.increment('saves');
    await counter.save(null, { useMasterKey: true });
  });

  if (options.requiredField) {
    Parse.Cloud.beforeSave(probeClass, (request) => {
      if (request.object.get(options.requiredField) === undefined) {
        throw new Parse.Error(Parse.Error.VALIDATION_ERROR,
          `every ${probeClass} object needs a "${options.requiredField}" field`);
      }
    });
  }
};
