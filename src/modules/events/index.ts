export { OutboxRepository, type OutboxEventType, type EventSubject } from './outbox.repository';
export { createEventsModule, type EventsModule } from './events.module';
export { signEventPayload } from './targets/http.targets';
export { EVENTS_STREAM } from './targets/stream.target';
