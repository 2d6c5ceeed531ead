// Package azuredevops is everything hookgate knows about Azure DevOps (service hooks): its
// record spec, verification rules, identification and normalization, API
// registration or manual steps, send-test sample and test payloads. Each
// part registers with the package that uses it, in init; importing this
// package (vendors/all does) is what makes the vendor known.
//
// It decides how this vendor's deliveries look and what they mean; it
// never does I/O of its own outside the vendor API client it is handed.
//
// # Event and body
//
// A service hook names its event in the body (eventType), beside the
// resource it describes, so no header can claim another event: Identify
// reads no header.
//
// # Facts of the body
//
//	eventType                          event time                         targets
//	git.push                           createdDate, else resource.date    resourceContainers.project.id,
//	                                                                      resource.repository.project id and name
//	git.pullrequest.created, .updated  createdDate                        resourceContainers.project.id,
//	                                                                      resource.repository.project id and name
//	build.complete                     createdDate, else resource.finishTime  resourceContainers.project.id,
//	                                                                      resource.project id and name
//
// createdDate is when Azure DevOps created the notification, the same
// across its retries. Each target name is listed once; in a genuine
// delivery they all name the one project. A time that cannot be read
// states none (events.FlexTime). Event types hookgate does not read state
// nothing. vendors/FACTS.md has the table for every vendor.
package azuredevops
